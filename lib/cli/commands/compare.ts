// onnxforge compare A B: accuracy and latency of two models side by side.
import { Command } from 'commander';
import { compareModels, CompareReport } from '../../compare/compare';
import { formatBytes, printJson, table } from '../output';
import { createProgress } from '../progress';
import { addCompareOptions, compareOptionsFrom } from '../compare-options';
import { engineChoice } from '../options';

function formatReport(report: CompareReport): string {
  const fmt = (x: number | null, digits: number) => (x === null ? '-' : x.toFixed(digits));
  const lines = [
    `inputs: ${report.samples} sample(s), ${report.inputsGenerated ? 'generated from a seed' : 'from files'}`,
    '',
    table(
      ['output', 'cosine', 'max abs err', 'mean abs err', 'top-1 agree'],
      report.outputs.map((o) => [o.name, fmt(o.cosine, 6), o.maxAbsError.toExponential(3), o.meanAbsError.toExponential(3), fmt(o.top1Agreement, 4)]),
    ),
    '',
    table(
      ['model', 'engine', 'file size', 'load ms', 'median ms', 'p90 ms'],
      (['a', 'b'] as const).map((k) => {
        const m = report[k];
        return [`${k.toUpperCase()} ${m.source}`, m.engine, formatBytes(m.fileBytes), m.loadMs.toFixed(1), fmt(m.latency?.medianMs ?? null, 3), fmt(m.latency?.p90Ms ?? null, 3)];
      }),
    ),
  ];
  for (const k of ['a', 'b'] as const) {
    const m = report[k];
    if (m.engine === 'ort' && m.engineReason.startsWith('the native engine cannot')) lines.push('', `${k.toUpperCase()} ran on onnxruntime: ${m.engineReason}`);
  }
  if (report.latencyRatio !== null) lines.push('', `B/A latency: ${report.latencyRatio.toFixed(3)} (${(1 / report.latencyRatio).toFixed(2)}x speed)`);
  return lines.join('\n');
}

export function registerCompare(program: Command): void {
  addCompareOptions(program
    .command('compare')
    .description('run two models on the same inputs: per output cosine, errors, top-1 agreement; per model size, load time, latency')
    .argument('<a>', 'reference model (.onnx)')
    .argument('<b>', 'candidate model (.onnx)'))
    .option('--engine <name>', 'engine for B: ort, native (onnxforge kernels) or auto (native when it runs every node)', engineChoice)
    .option('--engine-a <name>', 'engine for A (default ort)', engineChoice)
    .option('--engine-b <name>', 'engine for B (default ort; the same as --engine)', engineChoice)
    .option('--json', 'print the report as JSON')
    .action(async (a: string, b: string, opts) => {
      const progress = createProgress('compare');
      const report = await compareModels(a, b, {
        ...compareOptionsFrom(opts, (done, total) => progress.update(done, total)),
        engineA: opts.engineA, engineB: opts.engineB ?? opts.engine,
      });
      progress.finish();
      if (opts.json) printJson(report);
      else process.stdout.write(formatReport(report) + '\n');
    });
}
