// onnxforge compare A B: accuracy and latency of two models side by side.
import { Command } from 'commander';
import { compareModels, CompareReport } from '../../compare/compare';
import { compareTables } from '../compare-tables';
import { printJson } from '../output';
import { createProgress } from '../progress';
import { addCompareOptions, compareOptionsFrom } from '../compare-options';

function formatReport(report: CompareReport): string {
  return [
    `inputs: ${report.samples} sample(s), ${report.inputsGenerated ? 'generated from a seed' : 'from files'}`,
    '',
    ...compareTables(report, [`A ${report.a.source}`, `B ${report.b.source}`]),
  ].join('\n');
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
