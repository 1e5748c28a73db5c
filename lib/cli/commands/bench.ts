// onnxforge bench MODEL: latency, throughput, load time and memory of one model on several engines.
import { Command } from 'commander';
import { benchModel, type BenchModelReport } from '../../compare/bench-model';
import { formatBytes } from '../../format-bytes';
import { printJson, table } from '../output';
import { createProgress } from '../progress';
import { runBenchSuites } from '../bench-suites';
import { UsageError } from '../errors';
import { collectNumberPairs, collectShapes, engineList, nonNegativeInt, positiveInt } from '../options';

function formatReport(report: BenchModelReport): string {
  const inputs = report.inputs.map((i) => `${i.name} ${i.type}[${i.dims.join(', ')}]`).join(', ');
  const lines = [
    `inputs: ${inputs}; ${report.runs} timed runs per engine, threads ${report.threads ?? 'default'}`,
    '',
    table(
      ['engine', 'p50 ms', 'p90 ms', 'p99 ms', 'samples/s', 'load ms', 'memory'],
      report.engines.map((e) => [
        e.requested === e.engine ? e.engine : `${e.engine} (${e.requested})`,
        e.p50Ms.toFixed(3), e.p90Ms.toFixed(3), e.p99Ms.toFixed(3), e.samplesPerSecond.toFixed(1), e.loadMs.toFixed(1),
        formatBytes(e.residentBytes),
      ]),
    ),
  ];
  const ort = report.engines.find((e) => e.engine === 'ort');
  for (const e of report.engines) {
    if (e.engine === 'native' && ort) lines.push('', `native vs onnxruntime: ${(ort.p50Ms / e.p50Ms).toFixed(2)}x at p50`);
    if (e.engine === 'native' && e.packedWeightBytes !== undefined) {
      lines.push(`native: packed weights ${formatBytes(e.packedWeightBytes)}, arena ${formatBytes(e.arenaBytes ?? 0)} per run`);
    }
    if (e.requested === 'auto' && e.engine === 'ort') lines.push(`auto ran onnxruntime: ${e.reason}`);
  }
  return lines.join('\n');
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('time one model on several engines (same inputs, interleaved runs): latency p50/p90/p99, throughput, load time, memory')
    .argument('[model]', 'model (.onnx)')
    .option('--suite <names>', 'instead of a model: run the repository\'s bench suites (comma-separated, as `npm run bench -- NAME`; in a clone)')
    .option('--write', 'with --suite: update the committed bench/results (by default results go to a temp folder)')
    .option('--quick', 'with --suite: fewer cases')
    .option('--engine <names>', 'comma-separated engines: ort, native, auto', engineList, ['ort', 'native'])
    .option('--dim <name=value>', 'value of a symbolic dim (repeatable)', collectNumberPairs, {})
    .option('--shape <input=d1,d2,...>', 'whole shape of an input, unnamed dims included (repeatable)', collectShapes, {})
    .option('--batch <n>', 'the first dimension of inputs whose first dimension is symbolic', positiveInt)
    .option('--threads <n>', 'threads inside one run, for every engine', positiveInt)
    .option('--runs <n>', 'timed runs per engine', positiveInt, 50)
    .option('--warmup <n>', 'untimed runs per engine first', nonNegativeInt, 5)
    .option('--json', 'print the report as JSON')
    .action(async (model: string | undefined, opts) => {
      if (opts.suite !== undefined) {
        if (model !== undefined) throw new UsageError('give a model or --suite, not both');
        process.exitCode = await runBenchSuites(opts.suite, { write: opts.write, quick: opts.quick });
        return;
      }
      if (model === undefined) throw new UsageError('missing model: onnxforge bench MODEL (or --suite NAME for the repository\'s bench suites)');
      const progress = createProgress('bench');
      const report = await benchModel(model, {
        engines: opts.engine, dims: opts.dim, shapes: opts.shape, batch: opts.batch, threads: opts.threads, runs: opts.runs, warmup: opts.warmup,
        onProgress: (done, total) => progress.update(done, total),
      });
      progress.finish();
      if (opts.json) printJson(report);
      else process.stdout.write(formatReport(report) + '\n');
    });
}
