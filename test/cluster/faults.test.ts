// Faults with real processes: a worker SIGKILLed mid-job, a worker told to stop while it holds
// jobs, Redis restarting (and losing everything). Every request must get exactly one answer, the
// one onnxruntime gives in-process.
import * as path from 'path';
import { ClusterClient } from '../../lib/cluster/client';
import { ClusterWorker } from '../../lib/cluster/worker';
import type { HostTensor } from '../../lib/engine/tensor';
import type { RuntimeError } from '../../lib/runtime/errors';
import { RedisServer, redisAbsent } from '../helpers/redis';
import { describeWhen } from '../helpers/skip';
import { makeTempDir, removeDir } from '../helpers/temp';
import { smallMlp } from '../runtime/fixtures';
import { expectedOutputs, jobEvents, request, settleCounter, streamTop, uniquePrefix, values } from './helpers';
import { FAST_CONFIG, FAST_RECOVERY, repositoryWith, startWorker, STUCK_CONFIG, type WorkerProcess } from './workers';

function metric(text: string, name: string): number {
  return Number(new RegExp(`^${name}\\{model="mlp"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
}

describeWhen(redisAbsent(), 'cluster faults', () => {
  let redis: RedisServer;
  let dir: string;
  const started: WorkerProcess[] = [];
  const mlp = smallMlp(5);

  beforeAll(async () => {
    redis = await RedisServer.start();
    dir = makeTempDir('onnxforge-faults-');
    // Same model, same weights: one repository holds its requests in the batcher (mid-job until the worker dies), one answers at once.
    repositoryWith(path.join(dir, 'stuck'), 'mlp', STUCK_CONFIG);
    repositoryWith(path.join(dir, 'fast'), 'mlp', FAST_CONFIG);
  });

  afterAll(async () => {
    await Promise.all(started.map((w) => w.kill('SIGKILL')));
    await redis?.close();
    removeDir(dir);
  });

  const worker = async (prefix: string, repo: 'stuck' | 'fast', name: string, extra: string[] = []) => {
    const w = await startWorker(redis.url, path.join(dir, repo), name, ['--prefix', prefix, ...FAST_RECOVERY, ...extra]);
    started.push(w);
    return w;
  };

  const check = async (results: { outputs: Record<string, HostTensor> }[], feeds: ReturnType<typeof request>[]) => {
    const want = await expectedOutputs(mlp, feeds);
    results.forEach((r, i) => expect(values(r.outputs.output)).toEqual(values(want[i])));
  };

  test('two worker processes share the jobs; SIGKILL one mid-job and its jobs complete on the other, once each', async () => {
    const prefix = uniquePrefix();
    const client = new ClusterClient({ redis: redis.url, prefix, timeoutMs: 0 });
    try {
      const a = await worker(prefix, 'stuck', 'victim', ['--concurrency', '4']);
      const feeds = Array.from({ length: 8 }, (_, i) => request(i));
      const counter = settleCounter();
      const runs = feeds.map((f) => counter.track(client.infer('mlp', f)));
      // The victim takes four jobs and holds them; the other four wait for a worker with room.
      const held = await jobEvents(redis.url, prefix, 'infer.mlp', 'active', 4);
      await worker(prefix, 'fast', 'survivor');
      await counter.settled(4);
      await a.kill('SIGKILL');
      const results = await Promise.all(runs);
      await check(results, feeds);
      expect(held.size).toBe(4);
      // The victim answered nothing; the four it held ran a second time, on the survivor.
      expect(results.map((r) => r.worker)).toEqual(Array(8).fill('survivor'));
      expect(results.map((r) => r.attempts).sort()).toEqual([1, 1, 1, 1, 2, 2, 2, 2]);
      const text = await client.metrics.registry.metrics();
      // Exactly the four jobs the victim held were recovered from it and run a second time.
      expect(metric(text, 'onnxforge_cluster_retries_total')).toBe(4);
      expect(metric(text, 'onnxforge_cluster_stalled_jobs_total')).toBe(4);
      expect(await client.queues.get('infer.mlp').getJobCounts('waiting', 'prioritized', 'active', 'failed', 'completed'))
        .toEqual({ waiting: 0, prioritized: 0, active: 0, failed: 0, completed: 0 });
      expect(await client.redis.keys(`${prefix}:payload:*`)).toEqual([]);
    } finally {
      await client.close();
    }
  });

  test('SIGTERM: a worker hands back the jobs it cannot finish in its drain time, unregisters and exits 0', async () => {
    const prefix = uniquePrefix();
    const client = new ClusterClient({ redis: redis.url, prefix, timeoutMs: 0 });
    try {
      const a = await worker(prefix, 'stuck', 'leaving', ['--concurrency', '4', '--drain-timeout', '0']);
      const feeds = Array.from({ length: 4 }, (_, i) => request(10 + i));
      const runs = feeds.map((f) => client.infer('mlp', f));
      await jobEvents(redis.url, prefix, 'infer.mlp', 'active', 4);
      await worker(prefix, 'fast', 'staying');
      expect(await a.kill('SIGTERM')).toBe(0);
      expect(a.stderr()).toMatch(/draining: finishing jobs in progress/);
      const results = await Promise.all(runs);
      await check(results, feeds);
      expect(results.map((r) => [r.worker, r.attempts])).toEqual(Array(4).fill(['staying', 2]));
      const text = await client.metrics.registry.metrics();
      // Handed back, not stalled: the jobs ran again at once, without waiting for lock expiry.
      expect(metric(text, 'onnxforge_cluster_retries_total')).toBe(4);
      expect(metric(text, 'onnxforge_cluster_stalled_jobs_total')).toBe(0);
      expect((await client.status()).workers.map((w) => w.name)).toEqual(['staying']);
    } finally {
      await client.close();
    }
  });

  test('Redis restarts and loses everything: queued requests are submitted again, workers re-register, all answered', async () => {
    const prefix = uniquePrefix();
    const client = new ClusterClient({ redis: redis.url, prefix, timeoutMs: 0 });
    try {
      await worker(prefix, 'fast', 'steady');
      const queue = client.queues.get('infer.mlp');
      await queue.pause();
      const from = await streamTop(redis.url, prefix, 'infer.mlp');
      const feeds = Array.from({ length: 6 }, (_, i) => request(20 + i, 1 + (i % 2)));
      const runs = feeds.map((f) => client.infer('mlp', f));
      await jobEvents(redis.url, prefix, 'infer.mlp', 'added', 6, from);
      // The jobs, the paused flag and the worker's registration go with the restart.
      await redis.restart();
      await check(await Promise.all(runs), feeds);
      const later = [request(30), request(31)];
      await check(await Promise.all(later.map((f) => client.infer('mlp', f))), later);
    } finally {
      await client.close();
    }
  });

  test('a model gone from the registry a moment ago (its worker not registered again yet) still takes requests; with no grace it is a 404', async () => {
    const prefix = uniquePrefix();
    // In-process, with a heartbeat that never comes during the test: nothing registers it again.
    const quiet = new ClusterWorker({ redis: redis.url, repository: path.join(dir, 'fast'), prefix, name: 'quiet', heartbeatMs: 600000 });
    const client = new ClusterClient({ redis: redis.url, prefix, timeoutMs: 0 });
    const strict = new ClusterClient({ redis: redis.url, prefix, timeoutMs: 0, registryGraceMs: 0, registryRefreshMs: 0 });
    try {
      await quiet.start();
      const feeds = [request(60), request(61)];
      expect((await client.infer('mlp', feeds[0])).worker).toBe('quiet');
      expect((await strict.infer('mlp', feeds[0])).worker).toBe('quiet');
      // What a Redis restart does to the registry until the worker's connection is back.
      await client.redis.del(`${prefix}:worker:quiet`);
      expect((await client.models(true)).has('mlp')).toBe(false);
      const answer = await client.infer('mlp', feeds[1]);
      expect(answer.worker).toBe('quiet');
      await check([answer], [feeds[1]]);
      await expect(strict.infer('mlp', feeds[1])).rejects.toMatchObject({ status: 404, message: 'unknown model "mlp": no live worker serves it' });
    } finally {
      await Promise.all([client.close(), strict.close()]);
      await quiet.close();
    }
  });

  test('Redis out of reach: new requests are 503 at once, one in flight ends at its timeout (504)', async () => {
    const prefix = uniquePrefix();
    const client = new ClusterClient({ redis: redis.url, prefix, timeoutMs: 0 });
    try {
      await worker(prefix, 'fast', 'patient');
      expect((await client.infer('mlp', request(40))).worker).toBe('patient');
      const queue = client.queues.get('infer.mlp');
      await queue.pause();
      const from = await streamTop(redis.url, prefix, 'infer.mlp');
      const inFlight = client.infer('mlp', request(41), { timeoutMs: 300 });
      await jobEvents(redis.url, prefix, 'infer.mlp', 'added', 1, from);
      const lost = new Promise((resolve) => client.redis.once('close', resolve));
      await redis.stop();
      await lost;
      const refused = await client.infer('mlp', request(42)).then(() => undefined, (err: RuntimeError) => err);
      expect(refused).toMatchObject({ status: 503, retryAfterSeconds: 1, message: expect.stringMatching(/^Redis at redis:\/\/127\.0\.0\.1:\d+ is out of reach; retry later$/) });
      const timedOut = await inFlight.then(() => undefined, (err: RuntimeError) => err);
      expect(timedOut).toMatchObject({ status: 504, message: 'request timed out after 300 ms' });
    } finally {
      await redis.restart();
      await client.close();
    }
  });
});
