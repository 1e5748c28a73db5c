// onnxforge optimize MODEL -o OUT --level basic|extended|all: onnxruntime's graph optimizer, saved.
import { Command, Option } from 'commander';
import { compareModels } from '../../compare/compare';
import { OPTIMIZATION_LEVELS, optimizeModel } from '../../convert/optimize';
import { UsageError } from '../errors';
import { nonNegativeInt, requireDistinctOutput } from '../options';
import { formatBytes } from '../../format-bytes';
import { printJson } from '../output';
import { createProgress } from '../progress';
import { formatCompare } from './convert';
import { addCompareOptions, compareOptionsFrom } from '../compare-options';

function opChanges(before: Record<string, number>, after: Record<string, number>): string {
  const ops = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return ops
    .filter((op) => (before[op] ?? 0) !== (after[op] ?? 0))
    .map((op) => `${op} ${before[op] ?? 0}->${after[op] ?? 0}`)
    .join(', ');
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
      requireDistinctOutput(input, opts.output);
      if (opts.externalThreshold !== undefined && !opts.externalData) throw new UsageError('--external-threshold needs --external-data');
      const report = await optimizeModel(input, opts.output, {
        level: opts.level,
        externalData: opts.externalData ? { threshold: opts.externalThreshold } : false,
      });
      const progress = createProgress('compare');
      const compare = opts.compare
        ? await compareModels(input, report.output, compareOptionsFrom(opts, (done, total) => progress.update(done, total)))
        : undefined;
      progress.finish();
      if (opts.json) {
        printJson(compare ? { ...report, compare } : report);
        return;
      }
      const lines = [
        `${input} -> ${report.output} (onnxruntime level ${report.level})`,
        `size: ${formatBytes(report.bytesBefore)} -> ${formatBytes(report.bytesAfter)} (${(report.bytesAfter / report.bytesBefore).toFixed(3)}x)`,
        `nodes: ${report.nodesBefore} -> ${report.nodesAfter}${report.nodesBefore !== report.nodesAfter ? ` (${opChanges(report.opsBefore, report.opsAfter)})` : ''}`,
      ];
      if (report.renamedInitializers > 0) lines.push(`repaired ${report.renamedInitializers} initializer name(s) that onnxruntime wrote more than once`);
      if (compare) {
        lines.push(`compare with the original (${compare.samples} sample(s)):`, ...formatCompare(compare));
        if (compare.latencyRatio !== null) lines.push(`  latency: ${compare.a.latency?.medianMs.toFixed(3)} ms -> ${compare.b.latency?.medianMs.toFixed(3)} ms median (${compare.latencyRatio.toFixed(3)}x)`);
      }
      process.stdout.write(lines.join('\n') + '\n');
    });
}
