// onnxforge worker: serves a model repository's models to the cluster until SIGTERM/SIGINT, then drains.
import { Command } from 'commander';
import { redactUrl } from '../../cluster/connection';
import { ClusterWorker } from '../../cluster/worker';
import { addRedisOptions, nameList, redisUrl } from '../cluster-options';
import { nonNegativeInt, positiveInt } from '../options';
import { printJson } from '../output';
import { parseByteSize } from './serve';

export function registerWorker(program: Command): void {
  addRedisOptions(program
    .command('worker')
    .description('take inference jobs from the cluster (BullMQ on Redis) for the models of a repository, until SIGTERM/SIGINT')
    .requiredOption('--repo <dir>', 'model repository folder (the layout of onnxforge serve)'))
    .option('--models <names>', 'comma-separated models to serve (default: every model that loads)', nameList)
    .option('--concurrency <n>', 'jobs taken at once per model (they share the runtime batches)', positiveInt, 8)
    .option('--name <id>', 'worker name, unique in the cluster (default host-pid)')
    .option('--lock-duration <ms>', 'a job returns to the queue when its worker stops renewing the lock this long', positiveInt, 30000)
    .option('--stalled-interval <ms>', 'how often to look for jobs of dead workers', positiveInt, 30000)
    .option('--drain-timeout <ms>', 'on SIGTERM, time jobs in progress get before they are handed back', nonNegativeInt, 30000)
    .option('--max-payload <size>', 'largest tensor payload of a job either way', parseByteSize, 64 * 1024 * 1024)
    .option('--memory-budget <size>', 'memory budget for loaded models, e.g. 2GiB', parseByteSize)
    .option('--json', 'print the ready message as JSON')
    .action(async (opts) => {
      const log = (line: string) => process.stderr.write(`${line}\n`);
      const url = redisUrl(opts);
      const worker = new ClusterWorker({
        redis: url, prefix: opts.prefix, repository: opts.repo, models: opts.models, concurrency: opts.concurrency, name: opts.name,
        lockDurationMs: opts.lockDuration, stalledIntervalMs: opts.stalledInterval, drainTimeoutMs: opts.drainTimeout,
        payloads: { maxPayloadBytes: opts.maxPayload }, memoryBudgetBytes: opts.memoryBudget, log,
      });
      const stopped = new Promise<void>((resolve) => {
        const onSignal = () => {
          log(`draining: finishing jobs in progress (handing back what is left after ${opts.drainTimeout} ms)`);
          void worker.close().then(resolve);
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
      });
      try {
        await worker.start();
      } catch (err) {
        await worker.close();
        throw err;
      }
      const models = worker.models.map((m) => ({ name: m.name, versions: m.versions }));
      if (opts.json) printJson({ name: worker.name, redis: redactUrl(url), prefix: opts.prefix, concurrency: opts.concurrency, models });
      else process.stdout.write(`worker ${worker.name} ready on ${redactUrl(url)}: ${models.map((m) => `${m.name} (version ${m.versions.join(', ')})`).join(', ')}\n`);
      await stopped;
    });
}
