// npm run bench -- cluster: throughput and p50/p99 latency of inference through the cluster (BullMQ on
// one redis-server, 1, 2 and 4 `onnxforge worker` processes) against ModelRuntime in-process, on a small
// MLP and a transformer block; the queue's own cost per job (round trip minus the worker's time on it);
// and the jobs/s one Redis can carry here, from the Redis CPU time each job costs.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { ClusterClient } from '../lib/cluster/client';
import { percentile } from '../lib/compare/latency';
import type { Feeds } from '../lib/engine/tensor';
import { buildMlp } from '../lib/onnx/models/mlp';
import { buildTransformerBlock } from '../lib/onnx/models/transformer-block';
import type { Model } from '../lib/onnx/model';
import { randomUniform } from '../lib/onnx/random';
import { saveModel } from '../lib/onnx/save';
import { ModelRuntime } from '../lib/runtime/runtime';
import { RedisServer, redisAbsent } from '../test/helpers/redis';
import { startFloor } from './bullmq-floor';
import { benchFlags } from './flags';
import { writeResults } from './results';
import { startCliJson } from './cli-child';

const WORKER_COUNTS = [1, 2, 4];
const CONCURRENCY = [1, 32];
const MAX_BATCH = 64;
const THREADS = 1;

interface BenchModel {
  name: string;
  description: string;
  model: Model;
  shape: number[];
}

interface Point {
  model: string;
  mode: string;
  workers: number;
  concurrency: number;
  requests: number;
  errors: number;
  throughput: number;
  p50Ms: number;
  p99Ms: number;
  /** Round trip minus the worker's own time on the job (reading inputs, inference, storing outputs). */
  queueP50Ms?: number;
  queueP99Ms?: number;
  /** redis-server CPU per request. */
  redisCpuUsPerRequest?: number;
}

function benchModels(): BenchModel[] {
  return [
    { name: 'mlp', description: 'MLP 256-512-512-64', model: buildMlp({ inputSize: 256, hidden: [512, 512], outputSize: 64 }), shape: [1, 256] },
    {
      name: 'transformer', description: 'transformer block, seq 32, hidden 128, 4 heads, ffn 512',
      model: buildTransformerBlock({ seq: 32, hidden: 128, heads: 4, ffn: 512, batch: 'batch' }), shape: [1, 32, 128],
    },
    // Next to nothing to compute: what is left is the queue's cost, which is what bounds one Redis.
    { name: 'tiny', description: 'MLP 8-16-4 (queue cost only)', model: buildMlp({ inputSize: 8, hidden: [16], outputSize: 4 }), shape: [1, 8] },
  ];
}

function writeRepository(models: BenchModel[]): string {
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxforge-bench-cluster-'));
  for (const m of models) {
    fs.mkdirSync(path.join(repo, m.name, '1'), { recursive: true });
    saveModel(m.model, path.join(repo, m.name, '1', 'model.onnx'));
    const config = { max_batch_size: MAX_BATCH, dynamic_batching: { max_queue_delay_ms: 0 }, threads: THREADS, warmup: { samples: 2, batch_sizes: [1, 16, MAX_BATCH] } };
    fs.writeFileSync(path.join(repo, m.name, 'config.json'), JSON.stringify(config));
  }
  return repo;
}

async function startWorker(redis: string, repo: string, name: string): Promise<ChildProcess> {
  return (await startCliJson(['worker', '--redis', redis, '--repo', repo, '--name', name, '--concurrency', '32', '--json'])).child;
}

async function stopWorkers(workers: ChildProcess[]): Promise<void> {
  await Promise.all(workers.map((w) => new Promise((resolve) => {
    w.once('exit', resolve);
    w.kill('SIGTERM');
  })));
}

/** CPU milliseconds of a process so far (Linux /proc; NaN elsewhere). */
function processCpuMs(pid: number): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

interface Tally {
  latencies: number[];
  queueMs: number[];
  errors: number;
  elapsedMs: number;
}

/** Closed-loop load: `concurrency` callers, each sending its next request when the last is answered. */
async function load(concurrency: number, durationMs: number, send: () => Promise<number | undefined>): Promise<Tally> {
  const tally: Tally = { latencies: [], queueMs: [], errors: 0, elapsedMs: 0 };
  const start = performance.now();
  const end = start + durationMs;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        const workerMs = await send();
        const ms = performance.now() - t0;
        tally.latencies.push(ms);
        if (workerMs !== undefined) tally.queueMs.push(ms - workerMs);
      } catch (err) {
        tally.errors++;
        if (tally.errors === 1) process.stderr.write(`cluster: request failed: ${(err as Error).message}\n`);
      }
    }
  }));
  tally.elapsedMs = performance.now() - start;
  return tally;
}

function point(model: string, mode: string, workers: number, concurrency: number, tally: Tally, redisCpuMs?: number): Point {
  const sorted = [...tally.latencies].sort((a, b) => a - b);
  const queue = [...tally.queueMs].sort((a, b) => a - b);
  return {
    model, mode, workers, concurrency, requests: sorted.length, errors: tally.errors,
    throughput: (sorted.length / tally.elapsedMs) * 1000,
    p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99),
    queueP50Ms: queue.length ? percentile(queue, 50) : undefined,
    queueP99Ms: queue.length ? percentile(queue, 99) : undefined,
    redisCpuUsPerRequest: redisCpuMs === undefined ? undefined : (redisCpuMs * 1000) / Math.max(1, sorted.length),
  };
}

const fmt = (v: number | undefined, digits = 3) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(digits));

interface Ceiling {
  /** redis-server CPU per job at the busiest tiny-model point. */
  cpuUs: number;
  /** One core's worth of that: the jobs/s at which one Redis is saturated. */
  jobsPerSecond: number;
  /** Jobs/s measured at that point, and the share of one core Redis used for them. */
  measured: number;
  redisCoreShare: number;
}

function find(points: Point[], model: string, mode: string, workers: number, concurrency: number): Point | undefined {
  return points.find((p) => p.model === model && p.mode === mode && p.workers === workers && p.concurrency === concurrency);
}

/** What the table says about the 1 ms target and about scaling, in sentences computed from it. */
function findings(points: Point[], ceiling: Ceiling, cores: number): string[] {
  const queue = ['mlp', 'transformer'].map((m) => find(points, m, 'cluster', 1, 1)?.queueP50Ms ?? NaN);
  const floor = find(points, '(none)', 'bullmq-floor', 1, 1)?.p50Ms ?? NaN;
  const met = queue.every((q) => q <= 1);
  const rate = (model: string, workers: number) => find(points, model, 'cluster', workers, 32)?.throughput ?? NaN;
  const runtime = find(points, 'mlp', 'runtime', 0, 32)?.throughput ?? NaN;
  return [
    `Queue cost per job at p50 with one request in flight: ${fmt(queue[0])} ms (mlp) and ${fmt(queue[1])} ms (transformer) against the 1 ms target, which is ${met ? 'met' : 'not met'} here; a whole bare BullMQ round trip that does no work takes ${fmt(floor)} ms at p50 on the same Redis, so ${met ? 'most of the cost is BullMQ\'s own' : 'BullMQ and Redis alone come to that much on this machine, and the client, worker and Redis processes share its cores'}.`,
    '',
    `Scaling on one machine: this one has ${cores} logical cores for the client, Redis and every worker, so more worker processes cannot add throughput: mlp at 32 in flight answers ${rate('mlp', 1).toFixed(0)}, ${rate('mlp', 2).toFixed(0)} and ${rate('mlp', 4).toFixed(0)} requests/s with 1, 2 and 4 workers (the runtime in-process: ${runtime.toFixed(0)}).`,
    '',
    `Scaling with machines (one Redis, N worker machines): each worker brings its own cores, so throughput grows with N at each worker's own rate (its model time per request, with dynamic batching across the jobs it holds) until Redis saturates. Redis runs commands on one core; it spent ${ceiling.cpuUs.toFixed(0)} µs of CPU per job at the busiest point measured here (${ceiling.measured.toFixed(0)} jobs/s, ${(ceiling.redisCoreShare * 100).toFixed(0)}% of a core; the cores, not Redis, were the limit), so one Redis carries at most about ${ceiling.jobsPerSecond.toFixed(0)} jobs/s whatever N is. Below that the cluster pays off for models whose run time dwarfs the queue's cost; past it, more workers add nothing: put several rows in each request (the cost per job stays, so rows/s grow with rows per job) or split models over several Redis servers (one prefix each).`,
  ];
}

function markdown(points: Point[], machine: string, durationMs: number, ceiling: Ceiling, load: { start: number[]; end: number[] }): string {
  const lines = [
    `# cluster: inference through BullMQ/Redis workers vs ModelRuntime in-process (${machine})`,
    '',
    `Each point: ${durationMs} ms of closed-loop load after a warm-up; one row (batch 1) per request, binary tensors inside the job.`,
    `Workers: \`onnxforge worker\` processes (--concurrency 32, 1 onnxruntime thread, dynamic batching up to ${MAX_BATCH} rows) on one redis-server, all on this machine; the client (ClusterClient) runs in the bench process. runtime: ModelRuntime in the bench process (same config).`,
    `Load average (1, 5, 15 min) at the start: ${load.start.map((l) => l.toFixed(2)).join(', ')}; at the end: ${load.end.map((l) => l.toFixed(2)).join(', ')} (the machine is shared with other jobs).`,
    '',
    '| model | mode | workers | concurrency | req/s | p50 ms | p99 ms | queue p50 ms | queue p99 ms | Redis CPU µs/req | errors |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...points.map((p) => `| ${p.model} | ${p.mode} | ${p.workers || '-'} | ${p.concurrency} | ${p.throughput.toFixed(0)} | ${fmt(p.p50Ms)} | ${fmt(p.p99Ms)} | ${fmt(p.queueP50Ms)} | ${fmt(p.queueP99Ms)} | ${fmt(p.redisCpuUsPerRequest, 0)} | ${p.errors} |`),
    '',
    'queue: the round trip minus the time the worker reports for the job (reading its inputs, inference through the runtime, storing outputs): what the queue itself costs a request (target <= 1 ms at p50).',
    'bullmq-floor: bare BullMQ on the same Redis (an echo worker process, a client waiting on completed events, no tensors, no model): the part of the queue cost that is BullMQ and Redis on this machine.',
    'tiny: an MLP 8-16-4, next to nothing to compute: its rate is what the queue alone allows.',
    '',
    ...findings(points, ceiling, os.cpus().length),
    '',
  ];
  return lines.join('\n');
}

export async function runClusterBench(args: string[]): Promise<void> {
  const { flag, outDir } = benchFlags(args);
  const absent = redisAbsent();
  if (absent) throw new Error(`the cluster bench needs redis-server: ${absent}`);
  const durationMs = Number(flag('duration') ?? 3000);
  const machine = `${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} logical cores, Node ${process.version}`;
  const loadAtStart = os.loadavg();
  const models = benchModels();
  const repo = writeRepository(models);
  const redis = await RedisServer.start();
  const runtime = new ModelRuntime({ repository: repo });
  await runtime.start();
  const client = new ClusterClient({ redis: redis.url, timeoutMs: 60000 });
  const points: Point[] = [];
  const feeds = new Map<string, Feeds>(models.map((m) => [m.name, { input: { type: 'float32', dims: m.shape, data: randomUniform(m.shape.reduce((a, b) => a * b, 1), 7, -1, 1) } }]));
  const redisPid = redis.pid!;
  try {
    for (const m of models.filter((x) => x.name !== 'tiny')) {
      for (const concurrency of CONCURRENCY) {
        const send = () => runtime.infer(m.name, feeds.get(m.name)!).then(() => undefined);
        await load(concurrency, 500, send);
        points.push(point(m.name, 'runtime', 0, concurrency, await load(concurrency, durationMs, send)));
      }
    }
    const floor = await startFloor('127.0.0.1', redis.port);
    try {
      for (const concurrency of CONCURRENCY) {
        await load(concurrency, 500, floor.send);
        const cpu0 = processCpuMs(redisPid);
        const tally = await load(concurrency, durationMs, floor.send);
        points.push(point('(none)', 'bullmq-floor', 1, concurrency, tally, processCpuMs(redisPid) - cpu0));
      }
    } finally {
      await floor.close();
    }
    for (const count of WORKER_COUNTS) {
      process.stderr.write(`cluster: ${count} worker(s)\n`);
      const workers = await Promise.all(Array.from({ length: count }, (_, i) => startWorker(redis.url, repo, `bench-${count}-${i}`)));
      try {
        for (const m of models) {
          for (const concurrency of m.name === 'tiny' ? [32] : CONCURRENCY) {
            const send = () => client.infer(m.name, feeds.get(m.name)!).then((r) => r.runMs);
            await load(concurrency, 500, send);
            const cpu0 = processCpuMs(redisPid);
            const tally = await load(concurrency, durationMs, send);
            points.push(point(m.name, 'cluster', count, concurrency, tally, processCpuMs(redisPid) - cpu0));
          }
        }
      } finally {
        await stopWorkers(workers);
      }
    }
  } finally {
    await client.close();
    await runtime.close();
    await redis.close();
    fs.rmSync(repo, { recursive: true, force: true });
  }
  const tiny = points.filter((p) => p.model === 'tiny').sort((a, b) => b.throughput - a.throughput)[0];
  const cpuUs = tiny.redisCpuUsPerRequest ?? NaN;
  const ceiling: Ceiling = { cpuUs, jobsPerSecond: 1e6 / cpuUs, measured: tiny.throughput, redisCoreShare: (cpuUs * tiny.throughput) / 1e6 };
  const loadAverage = { start: loadAtStart, end: os.loadavg() };
  writeResults(outDir, 'cluster', { suite: 'cluster', machine, durationMs, loadAverage, points, redisCeiling: ceiling }, markdown(points, machine, durationMs, ceiling, loadAverage));
}
