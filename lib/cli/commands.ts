// Every command, one file each under commands/.
import { Command } from 'commander';
import { registerCompare } from './commands/compare';
import { registerCpu } from './commands/cpu';
import { registerDemo } from './commands/demo';
import { registerInspect } from './commands/inspect';
import { registerPrune } from './commands/prune';
import { registerQuantize } from './commands/quantize';
import { registerServe } from './commands/serve';

export function registerCommands(program: Command): void {
  registerCompare(program);
  registerCpu(program);
  registerDemo(program);
  registerInspect(program);
  registerPrune(program);
  registerQuantize(program);
  registerServe(program);
}
