// onnxforge prune MODEL -o OUT: magnitude (unstructured, N:M) or structured channel pruning, then compare.
import { Command, Option } from 'commander';
import { pruneFile } from '../../prune/prune-file';
import { PRUNE_PATTERNS, type PrunePattern } from '../../prune/options';
import type { PruneReport } from '../../prune/report';
import { UsageError } from '../errors';
import { collectNumberPairs, nonNegativeInt, positiveInt } from '../options';
import { againstOriginal } from '../compare-tables';
import { formatCount, printJson, table } from '../output';
import { createProgress } from '../progress';
import { addCompareOptions, compareOptionsFrom } from '../compare-options';

function fraction(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n >= 1) throw new UsageError(`expected a fraction in [0, 1), got "${value}"`);
  return n;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

const percent = (x: number): string => `${(100 * x).toFixed(1)}%`;

function formatLayers(r: PruneReport): string[] {
  if (r.pattern === 'channel') {
    return r.channels.flatMap((g) => [
      `${g.layers.join(' + ')}: ${g.channels.before} -> ${g.channels.after} channels, `
        + `${formatCount(g.parameters.before)} -> ${formatCount(g.parameters.after)} params`,
      `  through ${g.followed.join(', ') || 'nothing'}${g.statisticsChanged ? ' (statistics change)' : ''}; into ${g.consumers.join(', ') || '-'}`,
      '',
    ]);
  }
  if (r.layers.length === 0) return [];
  return [table(
    ['layer', 'op', 'weight', 'shape', 'params', 'target', 'sparsity'],
    r.layers.map((l) => [l.layer, l.op, l.weight, `[${l.shape.join(', ')}]`, formatCount(l.params), percent(l.targetSparsity), percent(l.sparsity)]),
  ), ''];
}

function formatPruneReport(r: PruneReport, output: string): string {
  const p = r.parameters;
  const what = r.pattern === 'channel' ? `${r.channels.length} channel group(s)` : `${r.layers.length} weight(s)`;
  const lines = [
    `${output}: ${r.pattern} pruning at sparsity ${r.sparsity} (${r.scope} scope), ${what} pruned`,
    '',
    ...formatLayers(r),
    `parameters: ${formatCount(p.before)} -> ${formatCount(p.after)}, non-zero ${formatCount(p.nonzeroBefore)} -> ${formatCount(p.nonzeroAfter)}`,
    '',
  ];
  if (r.skipped.length) {
    // Small layers are many in conv nets; one line names them all.
    const small = r.skipped.filter((s) => s.kind === 'too-small');
    const others = r.skipped.filter((s) => s.kind !== 'too-small');
    lines.push(`left alone (${r.skipped.length}):`, ...others.map((s) => `  ${s.layers.join(' + ')}: ${s.reason}`));
    if (small.length) lines.push(`  too small (see --min-params): ${small.map((s) => s.layers.join(' + ')).join(', ')}`);
    lines.push('');
  }
  if (r.compare) lines.push(...againstOriginal(r.compare, 'pruned'), '');
  lines.push(...r.notes.map((n) => `note: ${n}`));
  lines.push(...r.warnings.map((w) => `warning: ${w}`));
  return lines.join('\n');
}

export function registerPrune(program: Command): void {
  addCompareOptions(program
    .command('prune')
    .description('zero the smallest weights (unstructured, 2:4, 4:8) or remove whole channels (a smaller dense model), then compare with the original')
    .argument('<model>', 'model (.onnx)')
    .requiredOption('-o, --output <file>', 'where to write the pruned model')
    .addOption(new Option('--pattern <pattern>', 'what to remove').choices([...PRUNE_PATTERNS]).default('unstructured'))
    .option('--sparsity <s>', 'fraction of weights (or of each layer\'s channels) to remove; N:M patterns imply 0.5', fraction)
    .addOption(new Option('--scope <scope>', 'same fraction per layer, or one ranking over all layers').choices(['layer', 'global']).default('layer'))
    .option('--exclude <pattern>', 'keep layers dense: glob on node or weight name (repeatable)', collect, [])
    .option('--layer <pattern=s>', 'sparsity for matching layers, 0 keeps them dense (repeatable; last match wins)', collectNumberPairs, {})
    .option('--min-params <n>', 'skip layers with fewer weights', nonNegativeInt, 4096)
    .option('--round-to <n>', 'channel pattern: keep a multiple of n channels', positiveInt, 1)
    .option('--no-compare', 'skip running both models in onnxruntime'))
    .option('--json', 'print the report as JSON')
    .action(async (file: string, opts) => {
      const progress = createProgress('compare');
      const report = await pruneFile(file, opts.output, {
        pattern: opts.pattern as PrunePattern,
        sparsity: opts.sparsity,
        scope: opts.scope,
        exclude: opts.exclude,
        layers: opts.layer,
        minParams: opts.minParams,
        roundTo: opts.roundTo,
        compare: opts.compare ? compareOptionsFrom(opts, (done, total) => progress.update(done, total)) : false,
      });
      progress.finish();
      if (opts.json) printJson(report);
      else process.stdout.write(formatPruneReport(report, opts.output) + '\n');
    });
}
