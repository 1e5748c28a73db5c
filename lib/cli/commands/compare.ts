// onnxforge compare A B: accuracy and latency of two models side by side.
import { Command } from 'commander';
import { compareModels, CompareReport } from '../../compare/compare';
import { formatBytes } from '../../format-bytes';
import { printJson, table } from '../output';
import { createProgress } from '../progress';
import { addCompareOptions, compareOptionsFrom } from '../compare-options';

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
      ['model', 'file size', 'load ms', 'median ms', 'p90 ms'],
      (['a', 'b'] as const).map((k) => {
        const m = report[k];
        return [`${k.toUpperCase()} ${m.source}`, formatBytes(m.fileBytes), m.loadMs.toFixed(1), fmt(m.latency?.medianMs ?? null, 3), fmt(m.latency?.p90Ms ?? null, 3)];
      }),
    ),
  ];
  if (report.latencyRatio !== null) lines.push('', `B/A latency: ${report.latencyRatio.toFixed(3)} (${(1 / report.latencyRatio).toFixed(2)}x speed)`);
  return lines.join('\n');
}

export function registerCompare(program: Command): void {
  addCompareOptions(program
    .command('compare')
    .description('run two models in onnxruntime on the same inputs: per output cosine, errors, top-1 agreement; per model size, load time, latency')
    .argument('<a>', 'reference model (.onnx)')
    .argument('<b>', 'candidate model (.onnx)'))
    .option('--json', 'print the report as JSON')
    .action(async (a: string, b: string, opts) => {
      const progress = createProgress('compare');
      const report = await compareModels(a, b, compareOptionsFrom(opts, (done, total) => progress.update(done, total)));
      progress.finish();
      if (opts.json) printJson(report);
      else process.stdout.write(formatReport(report) + '\n');
    });
}
