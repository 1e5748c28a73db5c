// Every command, one file each under commands/.
import { Command } from 'commander';
import { registerBatch } from './commands/batch';
import { registerBench } from './commands/bench';
import { registerCluster } from './commands/cluster';
import { registerCompare } from './commands/compare';
import { registerConvert } from './commands/convert';
import { registerCpu } from './commands/cpu';
import { registerDemo } from './commands/demo';
import { registerDistill } from './commands/distill';
import { registerDoctor } from './commands/doctor';
import { registerExportWeights } from './commands/export-weights';
import { registerInspect } from './commands/inspect';
import { registerOptimize } from './commands/optimize';
import { registerPrune } from './commands/prune';
import { registerQuantize } from './commands/quantize';
import { registerServe } from './commands/serve';
import { registerTrain } from './commands/train';
import { registerWorker } from './commands/worker';

export function registerCommands(program: Command): void {
  registerBatch(program);
  registerBench(program);
  registerCluster(program);
  registerCompare(program);
  registerConvert(program);
  registerCpu(program);
  registerDemo(program);
  registerDistill(program);
  registerDoctor(program);
  registerExportWeights(program);
  registerInspect(program);
  registerOptimize(program);
  registerPrune(program);
  registerQuantize(program);
  registerServe(program);
  registerTrain(program);
  registerWorker(program);
}
