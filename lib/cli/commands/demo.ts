// onnxforge demo: the main job on a built-in model, so a newcomer sees it work at once:
// build a transformer-encoder block, quantize it to int8, and compare both in onnxruntime.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Command } from 'commander';
import { compareModels } from '../../compare/compare';
import { inspectModel } from '../../inspect/inspect';
import { kernels } from '../../kernels';
import { buildTransformerBlock } from '../../onnx/models/transformer-block';
import { saveModel } from '../../onnx/save';
import { quantize } from '../../quantize';
import { formatBytes } from '../../format-bytes';
import { formatCount, printJson } from '../output';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('build a transformer-encoder block, quantize it to int8 (dynamic), and compare the two in onnxruntime')
    .option('-o, --out <dir>', 'folder for the demo models (default: a new temporary folder)')
    .option('--json', 'print the results as JSON')
    .action(async (opts) => {
      const dir = opts.out ?? fs.mkdtempSync(path.join(os.tmpdir(), 'onnxforge-demo-'));
      fs.mkdirSync(dir, { recursive: true });
      const original = buildTransformerBlock({ seq: 128, hidden: 768, heads: 12, ffn: 3072, batch: 'batch' });
      const originalFile = path.join(dir, 'encoder-block.onnx');
      saveModel(original, originalFile);
      const { model: quantized, report: quantizeReport } = await quantize(original, { mode: 'dynamic', verify: false });
      const quantizedFile = path.join(dir, 'encoder-block.int8.onnx');
      saveModel(quantized, quantizedFile);
      const inspect = inspectModel(original);
      const compare = await compareModels(originalFile, quantizedFile, { dims: { batch: 1 }, sampleCount: 2, latencyRuns: 20 });
      const cpu = kernels.cpuInfo();
      if (opts.json) return printJson({ dir, cpu, inspect, quantize: quantizeReport, compare });
      const out = compare.outputs[0];
      const speed = compare.latencyRatio ? (1 / compare.latencyRatio).toFixed(2) : '?';
      process.stdout.write(
        [
          `native kernels: ${cpu.isa} on ${cpu.physicalCores} core(s)`,
          `built ${originalFile}: ${inspect.nodes} nodes, ${formatCount(inspect.parameters.count)} parameters, ${formatCount(inspect.macs.total)} MACs per sequence`,
          `quantized ${quantizeReport.quantized.length} MatMul nodes to int8 (dynamic): ${quantizedFile}`,
          `size ${formatBytes(compare.a.fileBytes)} -> ${formatBytes(compare.b.fileBytes)}; cosine ${out.cosine.toFixed(5)}; ` +
            `onnxruntime latency ${compare.a.latency?.medianMs.toFixed(2)} ms -> ${compare.b.latency?.medianMs.toFixed(2)} ms (${speed}x)`,
          `next: npx onnxforge inspect ${quantizedFile}`,
        ].join('\n') + '\n',
      );
    });
}
