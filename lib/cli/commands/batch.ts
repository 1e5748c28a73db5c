// onnxforge batch: runs a model over a folder of samples on the cluster, one <sample>.npz per input.
import { Command, Option } from 'commander';
import { runBatch, type BatchReport } from '../../cluster/batch';
import { addRedisOptions, integer, nameList, redisUrl } from '../cluster-options';
import { nonNegativeInt, positiveInt } from '../options';
import { printJson } from '../output';
import { createProgress } from '../progress';
import { parseByteSize } from './serve';
import { UsageError } from '../errors';

function summary(report: BatchReport, out: string): string {
  const lines = [
    `${report.model}: ${report.written} written to ${out}, ${report.skipped} already there, ${report.failed.length} failed `
      + `(${report.samples} samples; ${report.chunks} chunk jobs, ${report.adopted} found from an earlier run)`,
  ];
  for (const f of report.failed.slice(0, 10)) lines.push(`  ${f.sample}: ${f.error}`);
  if (report.failed.length > 10) lines.push(`  ... and ${report.failed.length - 10} more`);
  if (report.interrupted) lines.push('interrupted: run the same command again to resume');
  return lines.join('\n');
}

export function registerBatch(program: Command): void {
  addRedisOptions(program
    .command('batch')
    .description('run a model over a folder of samples on the cluster\'s workers; writes <out>/<sample>.npz atomically, resumes where a run stopped')
    .requiredOption('--model <name>', 'model to run')
    .requiredOption('--inputs <dir>', 'samples: .npy files (one-input models), .npz files or one folder per sample')
    .option('-o, --output <dir>', 'folder for the outputs (not the inputs folder)')
    // The spelling before every command wrote -o/--output; still accepted.
    .addOption(new Option('--out <dir>').hideHelp()))
    .option('--version <n>', 'model version (default: the latest served)', positiveInt)
    .option('--outputs <names>', 'comma-separated outputs to write (default all)', nameList)
    .option('--chunk <n>', 'samples per job', positiveInt, 16)
    .option('--window <n>', 'chunk jobs queued or running at once', positiveInt, 8)
    .option('--priority <n>', 'larger runs first, against other jobs of the model', integer, 0)
    .option('--timeout <ms>', 'limit per chunk job (0: none)', nonNegativeInt, 0)
    .option('--max-payload <size>', 'largest tensor payload of a job either way', parseByteSize, 64 * 1024 * 1024)
    .option('--json', 'print the report as JSON')
    .action(async (opts) => {
      const out: string | undefined = opts.output ?? opts.out;
      if (out === undefined) throw new UsageError('missing -o/--output <dir>: the folder for the outputs');
      const progress = createProgress('batch');
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const report = await runBatch({
          redis: redisUrl(opts), prefix: opts.prefix, model: opts.model, version: opts.version, outputs: opts.outputs,
          inputs: opts.inputs, out, chunk: opts.chunk, window: opts.window, priority: opts.priority, timeoutMs: opts.timeout,
          payloads: { maxPayloadBytes: opts.maxPayload }, signal: stop.signal, onProgress: (done, total) => progress.update(done, total),
        });
        progress.finish();
        if (opts.json) printJson(report);
        else process.stdout.write(summary(report, out) + '\n');
        if (report.interrupted) process.exitCode = 130;
        else if (report.failed.length) process.exitCode = 1;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
