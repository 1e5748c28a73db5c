// onnxforge optimize MODEL -o OUT --level basic|extended|all: onnxruntime's graph optimizer, saved.
import { Command, Option } from 'commander';
import { OPTIMIZATION_LEVELS, optimizeModel, type OptimizeReport } from '../../convert/optimize';
import { formatBytes } from '../../format-bytes';
import { UsageError } from '../errors';
import { nonNegativeInt } from '../options';
import { printJson } from '../output';
import { createProgress } from '../progress';
import { againstOriginal } from '../compare-tables';
import { addCompareOptions, compareOptionsFrom } from '../compare-options';

function opChanges(before: Record<string, number>, after: Record<string, number>): string {
  const ops = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return ops
    .filter((op) => (before[op] ?? 0) !== (after[op] ?? 0))
    .map((op) => `${op} ${before[op] ?? 0}->${after[op] ?? 0}`)
    .join(', ');
}

function formatReport(input: string, report: OptimizeReport): string {
  const lines = [
    `${input} -> ${report.output} (onnxruntime level ${report.level})`,
    `size: ${formatBytes(report.bytesBefore)} -> ${formatBytes(report.bytesAfter)} (${(report.bytesAfter / report.bytesBefore).toFixed(3)}x)`,
    `nodes: ${report.nodesBefore} -> ${report.nodesAfter}${report.nodesBefore !== report.nodesAfter ? ` (${opChanges(report.opsBefore, report.opsAfter)})` : ''}`,
  ];
  if (report.renamedInitializers > 0) lines.push(`repaired ${report.renamedInitializers} initializer name(s) that onnxruntime wrote more than once`);
  if (report.compare) lines.push(...againstOriginal(report.compare, 'optimized'));
  return lines.join('\n');
}

export function registerOptimize(program: Command): void {
  addCompareOptions(program
    .command('optimize')
    .description('run onnxruntime\'s graph optimizer (constant folding, redundant node elimination, fusions) and save the optimized model; '
      + 'extended and all may use onnxruntime-only ops (com.microsoft), and all adds layouts for this machine\'s CPU, so its output should run where it was made')
    .argument('<model>', 'model (.onnx)')
    .requiredOption('-o, --output <file>', 'where to write the optimized model')
    .addOption(new Option('--level <level>', 'onnxruntime graph optimization level').choices([...OPTIMIZATION_LEVELS]).default('extended'))
    .option('--external-data', 'store initializers in "<output>.data" (needed above 2 GiB)')
    .option('--external-threshold <bytes>', 'initializers of at least this many bytes go to external data (default 1024)', nonNegativeInt)
    .option('--compare', 'run the result and the original on the same inputs and report accuracy and latency'), { prefix: 'with --compare: ' })
    .option('--json', 'print the report as JSON')
    .action(async (input: string, opts) => {
      if (opts.externalThreshold !== undefined && !opts.externalData) throw new UsageError('--external-threshold needs --external-data');
      const progress = createProgress('compare');
      const report = await optimizeModel(input, opts.output, {
        level: opts.level,
        externalData: opts.externalData ? { threshold: opts.externalThreshold } : false,
        compare: opts.compare ? compareOptionsFrom(opts, (done, total) => progress.update(done, total)) : undefined,
      });
      progress.finish();
      if (opts.json) printJson(report);
      else process.stdout.write(formatReport(input, report) + '\n');
    });
}
