// The floor under the cluster's numbers: bare BullMQ on the same redis-server, an echo worker in its
// own process (a processor that returns its job data) and a client that adds jobs and waits for their
// completed events. What it costs is BullMQ's and Redis's; the rest of a cluster request is ours.
import { Queue, QueueEvents } from 'bullmq';
import { ChildProcess, spawn } from 'child_process';
import { randomUUID } from 'crypto';

export interface Floor {
  send(): Promise<undefined>;
  close(): Promise<void>;
}

const QUEUE = 'echo';
const PREFIX = 'bench-floor';

function echoWorker(host: string, port: number): Promise<ChildProcess> {
  const code = `
    const { Worker } = require(${JSON.stringify(require.resolve('bullmq'))});
    const w = new Worker(${JSON.stringify(QUEUE)}, async (job) => job.data, { connection: { host: ${JSON.stringify(host)}, port: ${port} }, prefix: ${JSON.stringify(PREFIX)}, concurrency: 32 });
    w.waitUntilReady().then(() => process.stdout.write('ready\\n'));
    process.on('SIGTERM', () => w.close().then(() => process.exit(0)));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve(child));
    child.once('exit', (status) => reject(new Error(`the echo worker exited with ${status}`)));
  });
}

export async function startFloor(host: string, port: number): Promise<Floor> {
  const connection = { host, port };
  const worker = await echoWorker(host, port);
  const queue = new Queue(QUEUE, { connection, prefix: PREFIX });
  const events = new QueueEvents(QUEUE, { connection, prefix: PREFIX });
  await events.waitUntilReady();
  const pending = new Map<string, () => void>();
  events.on('completed', ({ jobId }) => {
    pending.get(jobId)?.();
    pending.delete(jobId);
  });
  return {
    async send() {
      const jobId = randomUUID();
      const done = new Promise<undefined>((resolve) => pending.set(jobId, () => resolve(undefined)));
      await queue.add('echo', { x: 1 }, { jobId, removeOnComplete: true, priority: 1 });
      return done;
    },
    async close() {
      await events.close();
      await queue.close();
      await new Promise((resolve) => {
        worker.once('exit', resolve);
        worker.kill('SIGTERM');
      });
    },
  };
}
