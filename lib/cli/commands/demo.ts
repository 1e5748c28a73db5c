// onnxforge demo: the whole pipeline on a built-in model, so a newcomer sees it work at once.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Command } from 'commander';
import { compareModels } from '../../compare/compare';
import { inspectModel } from '../../inspect/inspect';
import { kernels } from '../../kernels';
import { buildTransformerBlock } from '../../onnx/models/transformer-block';
import { loadModel } from '../../onnx/load';
import { saveModel } from '../../onnx/save';
import { formatBytes, formatCount, printJson } from '../output';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('build a transformer-encoder block, save it, inspect it, round-trip it and compare both in onnxruntime')
    .option('-o, --out <dir>', 'folder for the demo models (default: a new temporary folder)')
    .option('--json', 'print the results as JSON')
    .action(async (opts) => {
      const dir = opts.out ?? fs.mkdtempSync(path.join(os.tmpdir(), 'onnxforge-demo-'));
      fs.mkdirSync(dir, { recursive: true });
      const original = path.join(dir, 'transformer-block.onnx');
      saveModel(buildTransformerBlock({ seq: 32, hidden: 256, heads: 4, ffn: 1024, batch: 'batch' }), original);
      const roundTrip = path.join(dir, 'transformer-block.roundtrip.onnx');
      saveModel(loadModel(original), roundTrip, { externalData: { threshold: 1024 } });
      const inspect = inspectModel(loadModel(original));
      const compare = await compareModels(original, roundTrip, { dims: { batch: 4 }, sampleCount: 2 });
      const cpu = kernels.cpuInfo();
      if (opts.json) return printJson({ dir, cpu, inspect, compare });
      const out = compare.outputs[0];
      process.stdout.write(
        [
          `kernels: ${cpu.isa} on ${cpu.physicalCores} core(s)`,
          `built ${original}: ${inspect.nodes} nodes, ${formatCount(inspect.parameters.count)} parameters, ${formatCount(inspect.macs.total)} MACs at batch 1`,
          `round-tripped with external data to ${roundTrip}`,
          `compare: cosine ${out.cosine.toFixed(6)}, max abs error ${out.maxAbsError.toExponential(2)}, ` +
            `latency ${compare.a.latency?.medianMs.toFixed(3)} ms vs ${compare.b.latency?.medianMs.toFixed(3)} ms (${formatBytes(compare.a.fileBytes)} model)`,
          `next: npx onnxforge inspect ${original}`,
        ].join('\n') + '\n',
      );
    });
}
