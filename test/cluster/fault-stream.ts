// A stream of requests through two `onnxforge worker` processes while a fault strikes mid-stream (one
// worker SIGKILLed, or Redis restarted and losing everything), tallied as the issue asks: requests
// submitted, answered right (equal to onnxruntime in-process), lost, and jobs that ran to completion
// twice. The fault tests assert the tally on a short stream; `npm run bench -- cluster-faults` records
// it on a long one.
import { QueueEvents, QueueEventsProducer, type QueueEventsListener } from 'bullmq';
import { randomUUID } from 'crypto';
import { ClusterClient } from '../../lib/cluster/client';
import { connectionOptions } from '../../lib/cluster/connection';
import type { Model } from '../../lib/onnx';
import { OverloadedError } from '../../lib/runtime/errors';
import type { RedisServer } from '../helpers/redis';
import { expectedOutputs, request, streamTop, values } from './helpers';
import { FAST_RECOVERY, startWorker, type WorkerProcess } from './workers';

export type StreamFault = 'sigkill-worker' | 'redis-restart';

export interface FaultTally {
  fault: StreamFault;
  submitted: number;
  /** Answered with exactly the outputs onnxruntime gives in-process. */
  completed: number;
  /** Answered with other outputs. */
  wrong: number;
  failed: number;
  /** Not answered by the deadline. */
  lost: number;
  /** Jobs that ran to completion more than once (the queue's event stream counts them); each request still settles once. */
  completedTwice: number;
  /** Answers that came from a job's second or later start: jobs the fault interrupted and another start finished. */
  rerun: number;
  /** Jobs still in the queue (waiting, active, failed) at the end: each could run again. */
  leftover: number;
  /** Answers per worker name. */
  byWorker: Record<string, number>;
  /** The first few failure messages. */
  reasons: string[];
  /** Requests refused at once while Redis was out of reach (503, retry later) and sent again once it was back. */
  retried: number;
}

export interface FaultStreamOptions {
  redis: RedisServer;
  /** A repository serving "mlp" (answering at once) with the weights of `model`. */
  repo: string;
  model: Model;
  prefix: string;
  fault: StreamFault;
  jobs: number;
  /** Requests in flight at once. */
  concurrency: number;
  /** The fault strikes once this many requests are answered. */
  faultAfter: number;
  /** Requests still unanswered this long after the stream began are counted lost. */
  deadlineMs: number;
}

interface CompletionCounter {
  counts: Map<string, number>;
  /** Resolves once every event published before the call has been read. */
  caughtUp(): Promise<void>;
  close(): Promise<void>;
}

/** Completions per job id on a queue's event stream from now on, across a Redis restart too. */
async function countCompletions(redisUrl: string, prefix: string, queue: string): Promise<CompletionCounter> {
  // The client's connection settings: reconnection within 2 s of Redis coming back.
  const connection = connectionOptions(redisUrl);
  const events = new QueueEvents(queue, { connection, prefix, lastEventId: await streamTop(redisUrl, prefix, queue) });
  events.on('error', () => undefined);
  const counts = new Map<string, number>();
  events.on('completed', ({ jobId }) => counts.set(jobId, (counts.get(jobId) ?? 0) + 1));
  await events.waitUntilReady();
  return {
    counts,
    async caughtUp() {
      // A marker event behind everything published so far: once it is read, so is all before it.
      const marker = `marker-${randomUUID()}`;
      const read = new Promise<void>((resolve) => events.once<QueueEventsListener & Record<string, () => void>>(marker, () => resolve()));
      const producer = new QueueEventsProducer(queue, { connection, prefix });
      try {
        await producer.publishEvent({ eventName: marker }, 10000);
      } finally {
        await producer.close();
      }
      await read;
    },
    close: () => events.close(),
  };
}

export async function runFaultStream(o: FaultStreamOptions): Promise<FaultTally> {
  const feeds = Array.from({ length: o.jobs }, (_, i) => request(1000 + i));
  const want = (await expectedOutputs(o.model, feeds)).map((t) => JSON.stringify(values(t)));
  const workers: WorkerProcess[] = [];
  const client = new ClusterClient({ redis: o.redis.url, prefix: o.prefix, timeoutMs: 0 });
  const tally: FaultTally = { fault: o.fault, submitted: 0, completed: 0, wrong: 0, failed: 0, lost: 0, completedTwice: 0, rerun: 0, leftover: 0, byWorker: {}, reasons: [], retried: 0 };
  let deadline: NodeJS.Timeout | undefined;
  let completions: CompletionCounter | undefined;
  try {
    for (const name of ['victim', 'survivor']) {
      workers.push(await startWorker(o.redis.url, o.repo, name, ['--prefix', o.prefix, '--concurrency', '4', ...FAST_RECOVERY]));
    }
    completions = await countCompletions(o.redis.url, o.prefix, 'infer.mlp');
    let fault: Promise<unknown> | undefined;
    const strike = () => (fault = o.fault === 'sigkill-worker' ? workers[0].kill('SIGKILL') : o.redis.restart());
    let next = 0;
    let answered = 0;
    // As a client should: a request refused with "retry later" (Redis out of reach, nothing queued) is sent
    // again once the connection is back.
    const inferRetrying = async (i: number) => {
      for (;;) {
        try {
          return await client.infer('mlp', feeds[i]);
        } catch (err) {
          if (!(err instanceof OverloadedError) || !/out of reach/.test(err.message)) throw err;
          tally.retried++;
          await client.connected();
        }
      }
    };
    const caller = async () => {
      while (next < o.jobs) {
        const i = next++;
        tally.submitted++;
        try {
          const r = await inferRetrying(i);
          if (JSON.stringify(values(r.outputs.output)) === want[i]) tally.completed++;
          else tally.wrong++;
          if (r.attempts > 1) tally.rerun++;
          tally.byWorker[r.worker] = (tally.byWorker[r.worker] ?? 0) + 1;
        } catch (err) {
          tally.failed++;
          if (tally.reasons.length < 5) tally.reasons.push((err as Error).message);
        }
        if (++answered === o.faultAfter) strike();
      }
    };
    await Promise.race([
      Promise.all(Array.from({ length: o.concurrency }, caller)),
      new Promise<void>((resolve) => (deadline = setTimeout(resolve, o.deadlineMs))),
    ]);
    await fault;
    tally.lost = tally.submitted - answered;
    await completions.caughtUp();
    tally.completedTwice = [...completions.counts.values()].filter((n) => n > 1).length;
    const left = await client.queues.get('infer.mlp').getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed');
    tally.leftover = Object.values(left).reduce((sum, n) => sum + n, 0);
    return tally;
  } finally {
    clearTimeout(deadline);
    await completions?.close();
    await client.close();
    await Promise.all(workers.map((w) => w.kill('SIGKILL')));
  }
}
