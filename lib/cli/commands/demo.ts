// onnxforge demo: the main job on a built-in model (see runDemo), printed.
import * as path from 'path';
import { Command } from 'commander';
import { runDemo, type DemoReport } from '../../demo/demo';
import { formatBytes } from '../../format-bytes';
import { formatCount, printJson } from '../output';

function formatReport(r: DemoReport): string {
  const shown = (file: string) => (r.kept ? file : path.basename(file));
  const out = r.compare.outputs[0];
  const speed = r.compare.latencyRatio ? (1 / r.compare.latencyRatio).toFixed(2) : '?';
  return [
    `native kernels: ${r.cpu.isa} on ${r.cpu.physicalCores} core(s)`,
    `built ${shown(r.files.original)}: ${r.inspect.nodes} nodes, ${formatCount(r.inspect.parameters.count)} parameters, ${formatCount(r.inspect.macs.total)} MACs per sequence`,
    `quantized ${r.quantize.quantized.length} MatMul nodes to int8 (dynamic): ${shown(r.files.quantized)}`,
    `size ${formatBytes(r.compare.a.fileBytes)} -> ${formatBytes(r.compare.b.fileBytes)}; cosine ${out.cosine?.toFixed(5) ?? '-'}; `
      + `onnxruntime latency ${r.compare.a.latency?.medianMs.toFixed(2)} ms -> ${r.compare.b.latency?.medianMs.toFixed(2)} ms (${speed}x)`,
    r.kept
      ? `next: npx onnxforge inspect ${r.files.quantized}`
      : `next: keep the models with --out DIR (the temporary copies are removed), then npx onnxforge inspect DIR/${path.basename(r.files.quantized)}`,
  ].join('\n');
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('build a transformer-encoder block, quantize it to int8 (dynamic), and compare the two in onnxruntime')
    .option('-o, --out <dir>', 'folder for the demo models, kept (default: a temporary folder, removed when the demo ends)')
    .option('--json', 'print the results as JSON')
    .action(async (opts) => {
      const report = await runDemo({ dir: opts.out });
      if (opts.json) printJson(report);
      else process.stdout.write(formatReport(report) + '\n');
    });
}
