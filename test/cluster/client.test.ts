// ClusterClient against real worker processes on a real redis-server: the results onnxruntime gives
// in-process, and the runtime's errors (400, 404, 413, 500, 503, 504) for the same faults.
import { QueueEvents } from 'bullmq';
import * as path from 'path';
import { ClusterClient } from '../../lib/cluster/client';
import { buildMlp, GraphBuilder, type Model } from '../../lib/onnx';
import { RuntimeError } from '../../lib/runtime/errors';
import { RedisServer, redisAbsent } from '../helpers/redis';
import { describeWhen } from '../helpers/skip';
import { makeTempDir, removeDir } from '../helpers/temp';
import { smallMlp, writeModel } from '../runtime/fixtures';
import { expectedOutputs, jobEvents, request, streamTop, uniquePrefix, values } from './helpers';
import { FAST_CONFIG, startWorker, type WorkerProcess } from './workers';

/** input [batch, 8] -> Reshape to [3, -1]: fails in onnxruntime at run time for batch 1 (8 values do not split into 3 rows). */
function failingModel(): Model {
  const g = new GraphBuilder('failing');
  const x = g.input('input', 'float32', ['batch', 8]);
  const shape = g.initializer('shape', BigInt64Array.from([3n, -1n]), [2], 'int64');
  g.node('Reshape', [x, shape], ['output']);
  g.output('output', 'float32', [3, 'n']);
  return g.build();
}

const wide = buildMlp({ inputSize: 8, hidden: [16], outputSize: 4096, seed: 3 });

async function rejection(p: Promise<unknown>): Promise<RuntimeError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(RuntimeError);
  return err as RuntimeError;
}

describeWhen(redisAbsent(), 'cluster: ClusterClient and worker processes', () => {
  let redis: RedisServer;
  let dir: string;
  const prefix = uniquePrefix();
  const workers: WorkerProcess[] = [];
  let client: ClusterClient;
  const mlp = smallMlp(5);
  const other = smallMlp(9);

  beforeAll(async () => {
    redis = await RedisServer.start();
    dir = makeTempDir('onnxforge-cluster-');
    const repoA = path.join(dir, 'a');
    writeModel(repoA, 'mlp', { config: FAST_CONFIG, versions: { 1: mlp } });
    writeModel(repoA, 'wide', { config: FAST_CONFIG, versions: { 1: wide } });
    writeModel(repoA, 'failing', { config: { warmup: { samples: 0 } }, versions: { 1: failingModel() } });
    const repoB = path.join(dir, 'b');
    writeModel(repoB, 'other', { config: FAST_CONFIG, versions: { 1: other } });
    // Concurrency 1: jobs run one at a time, in the order the queue hands them out (priorities).
    workers.push(await startWorker(redis.url, repoA, 'worker-a', ['--prefix', prefix, '--concurrency', '1']));
    workers.push(await startWorker(redis.url, repoB, 'worker-b', ['--prefix', prefix]));
    client = new ClusterClient({ redis: redis.url, prefix });
  });

  afterAll(async () => {
    await client?.close();
    await Promise.all(workers.map((w) => w.kill('SIGTERM')));
    await redis?.close();
    removeDir(dir);
  });

  test('results equal onnxruntime in-process, whichever worker serves the model', async () => {
    const feeds = Array.from({ length: 12 }, (_, i) => request(i, 1 + (i % 3)));
    const want = await expectedOutputs(mlp, feeds);
    const got = await Promise.all(feeds.map((f) => client.infer('mlp', f)));
    got.forEach((r, i) => {
      expect(r).toMatchObject({ model: 'mlp', version: 1 });
      expect(r.outputs.output.dims).toEqual(want[i].dims);
      expect(values(r.outputs.output)).toEqual(values(want[i]));
    });
    expect(new Set(got.map((r) => r.worker))).toEqual(new Set(['worker-a']));
    // Only worker-b serves "other": its jobs go to its queue, which worker-a does not read.
    const [otherWant] = await expectedOutputs(other, [request(1)]);
    const answer = await client.infer('other', request(1));
    expect(answer).toMatchObject({ worker: 'worker-b', attempts: 1 });
    expect(values(answer.outputs.output)).toEqual(values(otherWant));
  });

  test('large tensors travel in side keys as raw bytes, which are gone once the answer is in', async () => {
    const sideKeys = new ClusterClient({ redis: redis.url, prefix, payloads: { inlineBytes: 0 } });
    try {
      const feeds = [request(2, 8), request(3, 64)];
      const want = await expectedOutputs(wide, feeds);
      const got = await Promise.all(feeds.map((f) => sideKeys.infer('wide', f)));
      got.forEach((r, i) => expect(values(r.outputs.output)).toEqual(values(want[i])));
      expect(await sideKeys.redis.keys(`${prefix}:payload:*`)).toEqual([]);
    } finally {
      await sideKeys.close();
    }
  });

  test('a payload above the limit fails with 413 before anything is queued', async () => {
    const small = new ClusterClient({ redis: redis.url, prefix, payloads: { maxPayloadBytes: 1024 } });
    try {
      const err = await rejection(small.infer('mlp', request(0, 64)));
      expect(err.status).toBe(413);
      expect(err.message).toMatch(/^the request's tensors are 2\.\d+ KiB, above the cluster's payload limit of 1\.00 KiB \(maxPayloadBytes\)$/);
      expect(await small.queues.get('infer.mlp').count()).toBe(0);
    } finally {
      await small.close();
    }
  });

  test('unknown models and versions are 404s', async () => {
    expect(await rejection(client.infer('nope', request(0)))).toMatchObject({ status: 404, message: 'unknown model "nope": no live worker serves it' });
    expect(await rejection(client.infer('../../etc/passwd', request(0)))).toMatchObject({ status: 404 });
    expect(await rejection(client.infer('mlp', request(0), { version: 2 }))).toMatchObject({ status: 404, message: 'model "mlp" has no version 2 (serving 1)' });
  });

  test('a bad request and a model error fail with their reason; the worker keeps serving', async () => {
    const bad = await rejection(client.infer('mlp', { input: { type: 'float32', dims: [1, 7], data: new Float32Array(7) } }));
    expect(bad).toMatchObject({ status: 400, message: 'input "input" must have shape [-1, 8], got [1, 7]' });
    const failing = await rejection(client.infer('failing', request(0)));
    expect(failing.status).toBe(500);
    expect(failing.message).toMatch(/reshape/i);
    expect((await client.infer('mlp', request(4))).outputs.output.dims).toEqual([1, 4]);
  });

  test('malformed jobs fail with their reason and the worker keeps serving', async () => {
    const queue = client.queues.get('infer.mlp');
    const events = new QueueEvents('infer.mlp', { connection: { host: '127.0.0.1', port: redis.port }, prefix });
    try {
      await events.waitUntilReady();
      const garbage = Buffer.from('not a payload at all').toString('base64');
      const cases: [string, unknown, RegExp][] = [
        ['infer', {}, /^\[400\] malformed job: .*model/],
        ['run-this', { model: 'mlp', input: { bytes: 0, inline: '' } }, /^\[400\] malformed job: unknown job name "run-this"/],
        ['infer', { model: 'mlp', input: { bytes: 20, inline: garbage } }, /^\[400\] malformed tensor payload/],
        ['infer', { model: 'mlp', input: { bytes: 4096 } }, /^\[500\] the job's tensors are gone from Redis/],
        ['infer', { model: 'other', input: { bytes: 0, inline: '' } }, /^\[400\] malformed job: it names model "other" in the queue of "mlp"/],
      ];
      for (const [name, data, reason] of cases) {
        const job = await queue.add(name, data);
        const failed = await job.waitUntilFinished(events).then(() => 'completed', (err: Error) => err.message);
        expect(failed).toMatch(reason);
      }
    } finally {
      await events.close();
    }
    expect((await client.infer('mlp', request(5))).outputs.output.dims).toEqual([1, 4]);
  });

  test('priorities: queued requests with a larger priority run first', async () => {
    const queue = client.queues.get('infer.mlp');
    await queue.pause();
    const from = await streamTop(redis.url, prefix, 'infer.mlp');
    const order: string[] = [];
    const runs = [0, 0, 0, 5, 5, 5].map((priority, i) => client.infer('mlp', request(i), { priority }).then(() => order.push(priority ? 'high' : 'low')));
    // All six are queued before the worker (concurrency 1) may take one.
    await jobEvents(redis.url, prefix, 'infer.mlp', 'added', 6, from);
    await queue.resume();
    await Promise.all(runs);
    expect(order).toEqual(['high', 'high', 'high', 'low', 'low', 'low']);
  });

  test('a request past its timeout is a 504 and its job leaves the queue', async () => {
    const queue = client.queues.get('infer.mlp');
    await queue.pause();
    try {
      // The queue is paused: the job cannot start, so the timeout is what ends the request.
      const err = await rejection(client.infer('mlp', request(0), { timeoutMs: 50 }));
      expect(err).toMatchObject({ status: 504, message: 'request timed out after 50 ms' });
      expect(await queue.count()).toBe(0);
    } finally {
      await queue.resume();
    }
  });

  test('a full queue is a 503 with Retry-After; the queued requests still complete', async () => {
    const limited = new ClusterClient({ redis: redis.url, prefix, maxQueued: 2 });
    const queue = limited.queues.get('infer.mlp');
    await queue.pause();
    try {
      const from = await streamTop(redis.url, prefix, 'infer.mlp');
      const queued = [limited.infer('mlp', request(1)), limited.infer('mlp', request(2))];
      await jobEvents(redis.url, prefix, 'infer.mlp', 'added', 2, from);
      const err = await rejection(limited.infer('mlp', request(3)));
      expect(err).toMatchObject({ status: 503, retryAfterSeconds: 1, message: 'the queue of model "mlp" is full (2 waiting, limit 2); retry later' });
      await queue.resume();
      expect((await Promise.all(queued)).map((r) => r.outputs.output.dims)).toEqual([[1, 4], [1, 4]]);
    } finally {
      await queue.resume();
      await limited.close();
    }
  });

  test('status lists live workers, their models and queue depths; metrics count requests by outcome', async () => {
    const status = await client.status();
    expect(status.workers.map((w) => [w.name, w.state, w.models.map((m) => m.name).sort()])).toEqual([
      ['worker-a', 'serving', ['failing', 'mlp', 'wide']],
      ['worker-b', 'serving', ['other']],
    ]);
    expect(status.queues.find((q) => q.model === 'other')).toEqual({ model: 'other', waiting: 0, active: 0, delayed: 0, failed: 0, workers: ['worker-b'] });
    const text = await client.metrics.registry.metrics();
    expect(text).toMatch(/onnxforge_cluster_requests_total\{model="mlp",outcome="success"\} (\d+)/);
    expect(Number(/onnxforge_cluster_requests_total\{model="mlp",outcome="success"\} (\d+)/.exec(text)![1])).toBeGreaterThanOrEqual(12);
    expect(text).toMatch(/onnxforge_cluster_requests_total\{model="nope",outcome="not_found"\} 1/);
    expect(text).toMatch(/onnxforge_cluster_workers 2/);
    expect(text).toMatch(/onnxforge_cluster_queue_jobs\{model="failing",state="failed"\} 1/);
    expect(text).toContain('onnxforge_cluster_run_seconds_bucket');
  });
});
