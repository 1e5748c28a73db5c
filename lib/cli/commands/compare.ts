// onnxforge compare A B: accuracy and latency of two models side by side.
import { Command } from 'commander';
import { compareModels, CompareReport } from '../../compare/compare';
import { compareTables } from '../compare-tables';
import { printJson } from '../output';
import { createProgress } from '../progress';
import { addCompareOptions, compareOptionsFrom } from '../compare-options';
import { engineChoice } from '../options';

function formatReport(report: CompareReport): string {
  return [
    `inputs: ${report.samples} sample(s), ${report.inputsGenerated ? 'generated from a seed' : 'from files'}`,
    '',
    ...compareTables(report, [`A ${report.a.source}`, `B ${report.b.source}`]),
    ...(['a', 'b'] as const)
      .filter((k) => report[k].engine === 'ort' && report[k].engineReason.startsWith('the native engine cannot'))
      .map((k) => `${k.toUpperCase()} ran on onnxruntime: ${report[k].engineReason}`),
  ].join('\n');
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
