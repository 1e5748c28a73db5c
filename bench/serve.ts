// npm run bench -- serve: throughput and latency of the model server (KServe v2 over HTTP, binary tensors)
// with dynamic batching and with one request per run, against the bare engines (onnxruntime-node and native) in-process,
// at concurrency 1, 16 and 64, on a small MLP and a transformer block, each engine pinned per server model; and where a request's time goes.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { percentile } from '../lib/compare/latency';
import type { Session } from '../lib/engine/engine';
import { NativeEngine } from '../lib/engine/native/native-engine';
import { OrtEngine } from '../lib/engine/ort-engine';
import type { Feeds } from '../lib/engine/tensor';
import { buildMlp } from '../lib/onnx/models/mlp';
import { buildTransformerBlock } from '../lib/onnx/models/transformer-block';
import type { Model } from '../lib/onnx/model';
import { randomUniform } from '../lib/onnx/random';
import { ModelRuntime } from '../lib/runtime/runtime';
import type { StageSummary } from '../lib/runtime/request-profile';
import { saveModel } from '../lib/onnx/save';
import { writeResults } from './results';
import { benchFlags } from './flags';
import { startCliJson } from './cli-child';
import { renderBarChart } from './svg-chart';

type Engine = 'ort' | 'native' | '-';

const CONCURRENCY = [1, 16, 64];
const ENGINES = ['ort', 'native'] as const;
const ISOLATIONS = ['thread', 'none'] as const;
type Isolation = (typeof ISOLATIONS)[number];
/** A server model's name: the ort variant on isolation 'thread' keeps the plain name. */
const served = (model: string, kind: string, engine: 'ort' | 'native', isolation: Isolation = 'thread') =>
  `${model}_${kind}${isolation === 'none' ? '_none' : ''}${engine === 'native' ? '_native' : ''}`;
/** Sequential requests the stage breakdown is taken over. */
const BREAKDOWN_REQUESTS = 2000;
const MAX_BATCH = 64;
const THREADS = 1;

interface BenchModel {
  name: string;
  description: string;
  model: Model;
  /** One request's input shape (batch 1). */
  shape: number[];
}

interface Point {
  model: string;
  mode: 'onnxruntime' | 'native' | 'runtime-batching' | 'runtime-single' | 'server-batching' | 'server-single' | 'server-batching-none' | 'server-single-none' | 'server-single-baseline' | 'http-floor';
  /** The engine that ran the model ('-' for http-floor). */
  engine: Engine;
  concurrency: number;
  requests: number;
  errors: number;
  throughput: number;
  p50Ms: number;
  p99Ms: number;
  /** Rows per execution in the server (inferences / executions); 1 for onnxruntime. */
  meanBatch: number;
  /** CPU time per request of the process doing the work (server process, or the bench process for onnxruntime). */
  cpuMsPerRequest: number;
}

interface Mode {
  name: Point['mode'];
  engine: Engine;
  send: () => Promise<boolean>;
  /** CPU milliseconds used so far by the process that does this mode's work. */
  cpuMs: () => number;
  /** The server model behind this mode. */
  serverModel?: string;
  /** Measured at concurrency 1 only. */
  onlyAt1?: boolean;
  /** Not measured at concurrency 16. */
  skipAt16?: boolean;
}

interface Tally {
  latencies: number[];
  errors: number;
  elapsedMs: number;
  cpuMs: number;
}

function benchModels(): BenchModel[] {
  return [
    {
      name: 'mlp',
      description: 'MLP 256-512-512-64',
      model: buildMlp({ inputSize: 256, hidden: [512, 512], outputSize: 64 }),
      shape: [1, 256],
    },
    {
      name: 'transformer',
      description: 'transformer block, seq 32, hidden 128, 4 heads, ffn 512',
      model: buildTransformerBlock({ seq: 32, hidden: 128, heads: 4, ffn: 512, batch: 'batch' }),
      shape: [1, 32, 128],
    },
  ];
}

function writeRepository(models: BenchModel[]): string {
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxforge-bench-serve-'));
  for (const m of models) {
    // Each engine pinned per model, so a row measures the engine it names.
    const variants: Record<string, object> = {};
    for (const engine of ENGINES) {
      for (const isolation of ISOLATIONS) {
        variants[served(m.name, 'batching', engine, isolation)] = {
          engine,
          isolation,
          max_batch_size: MAX_BATCH,
          dynamic_batching: { max_queue_delay_ms: 0 },
          threads: THREADS,
          warmup: { samples: 2, batch_sizes: [1, 16, MAX_BATCH] },
        };
        variants[served(m.name, 'single', engine, isolation)] = { engine, isolation, max_batch_size: 0, threads: THREADS, warmup: { samples: 2 } };
      }
    }
    for (const [name, config] of Object.entries(variants)) {
      fs.mkdirSync(path.join(repo, name, '1'), { recursive: true });
      saveModel(m.model, path.join(repo, name, '1', 'model.onnx'));
      fs.writeFileSync(path.join(repo, name, 'config.json'), JSON.stringify(config));
    }
  }
  return repo;
}

/** Starts `onnxforge serve` in its own process so the load generator does not share its event loop. */
async function startServer(repo: string, cli?: string): Promise<{ child: ChildProcess; url: string }> {
  // The profile hooks cost two performance.now() calls per stage (well under a microsecond a request).
  const { child, ready } = await startCliJson<{ url: string }>(['serve', repo, '--port', '0', '--json'], { ...process.env, ONNXFORGE_SERVE_PROFILE: '1' }, cli);
  return { child, url: ready.url };
}

function binaryRequest(shape: number[], data: Float32Array): { body: Buffer; headerLength: number } {
  const header = Buffer.from(JSON.stringify({
    inputs: [{ name: 'input', shape, datatype: 'FP32', parameters: { binary_data_size: data.byteLength } }],
    parameters: { binary_data_output: true },
  }));
  return { body: Buffer.concat([header, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]), headerLength: header.length };
}

function httpPost(agent: http.Agent, url: URL, body: Buffer, headers: Record<string, string>): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { agent, hostname: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { ...headers, 'content-length': String(body.length) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const reported = new Set<string>();

/** Each distinct failure once on stderr, so a run with errors says why. */
function reportError(message: string): void {
  if (reported.has(message)) return;
  reported.add(message);
  process.stderr.write(`serve: request failed: ${message}\n`);
}

function httpGet(agent: http.Agent, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
}

async function load(concurrency: number, durationMs: number, send: () => Promise<boolean>): Promise<{ latencies: number[]; errors: number; elapsedMs: number }> {
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  const end = start + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        const ok = await send().catch((err: Error) => {
          reportError(err.message);
          return false;
        });
        if (ok) latencies.push(performance.now() - t0);
        else errors++;
      }
    }),
  );
  return { latencies, errors, elapsedMs: performance.now() - start };
}

/** Rows per second of onnxruntime running MAX_BATCH-row batches back to back, after a warm-up (median of 5 slices). */
async function batchedRowsPerSec(session: Session, shape: number[], durationMs: number): Promise<number> {
  const dims = [MAX_BATCH, ...shape.slice(1)];
  const data = randomUniform(dims.reduce((a, b) => a * b, 1), 11, -1, 1);
  const feeds: Feeds = { input: { type: 'float32', dims, data } };
  for (let i = 0; i < 3; i++) await session.run(feeds);
  const rates: number[] = [];
  for (let slice = 0; slice < 5; slice++) {
    let runs = 0;
    const start = performance.now();
    while (performance.now() - start < durationMs / 5) {
      await session.run(feeds);
      runs++;
    }
    rates.push((runs * MAX_BATCH * 1000) / (performance.now() - start));
  }
  return rates.sort((a, b) => a - b)[2];
}

function point(model: string, mode: Point['mode'], engine: Engine, concurrency: number, tally: Tally, meanBatch: number): Point {
  const sorted = [...tally.latencies].sort((a, b) => a - b);
  return {
    model,
    mode,
    engine,
    concurrency,
    requests: sorted.length,
    errors: tally.errors,
    throughput: (sorted.length / tally.elapsedMs) * 1000,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    meanBatch,
    cpuMsPerRequest: tally.cpuMs / Math.max(1, sorted.length),
  };
}

/** CPU time of another process (Linux /proc; NaN elsewhere). */
function processCpuMs(pid: number): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 per second on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

function ownCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/**
 * Interleaves the modes in short slices, rotating their order each round, so that the load
 * other programs put on the machine falls on every mode alike.
 */
async function measureModes(modes: Mode[], concurrency: number, durationMs: number, rounds: number): Promise<Map<Mode, Tally>> {
  const tallies = new Map(modes.map((m) => [m, { latencies: [], errors: 0, elapsedMs: 0, cpuMs: 0 } as Tally]));
  for (const mode of modes) await load(concurrency, Math.max(200, durationMs / 8), mode.send);
  const slice = durationMs / rounds;
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < modes.length; i++) {
      const mode = modes[(i + round) % modes.length];
      const tally = tallies.get(mode)!;
      const cpu0 = mode.cpuMs();
      const result = await load(concurrency, slice, mode.send);
      tally.cpuMs += mode.cpuMs() - cpu0;
      tally.latencies.push(...result.latencies);
      tally.errors += result.errors;
      tally.elapsedMs += result.elapsedMs;
    }
  }
  return tallies;
}

function httpGetText(agent: http.Agent, url: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    http.get(url, { agent }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

interface Breakdown {
  model: string;
  serverModel: string;
  /** 'baseline': the server built from --baseline=DIR, measured in the same run. */
  build?: 'baseline';
  stages: StageSummary[];
}

/** Sequential requests with the server's stage profile on: where the fixed cost of one request goes. */
/** Sequential requests to each server model in turn (slices of 100, so load from other programs falls on all alike), then each server's profile. */
async function serverBreakdowns(agent: http.Agent, targets: { url: string; serverModel: string }[], body: Buffer, headers: Record<string, string>): Promise<StageSummary[][]> {
  const profiles: StageSummary[][] = [];
  for (let slice = 0; slice < BREAKDOWN_REQUESTS / 100; slice++) {
    for (const { url, serverModel } of targets) {
      const target = new URL(`${url}/v2/models/${serverModel}/infer`);
      for (let i = 0; i < 100; i++) await httpPost(agent, target, body, headers);
    }
  }
  // A server holds one profile: each target's requests were sent in a run of their own per server.
  // A baseline build from before the profile existed answers 404: it has no breakdown.
  for (const { url } of targets) {
    const profile = JSON.parse(await httpGetText(agent, `${url}/v2/debug/profile`)) as unknown;
    profiles.push(Array.isArray(profile) ? (profile as StageSummary[]) : []);
  }
  return profiles;
}

/** The breakdown committed from a run before the request path was trimmed, to show against this run's. */
function breakdownBefore(outDir: string): Breakdown[] {
  const file = path.join(outDir, 'serve-breakdown-before.json');
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { breakdown: Breakdown[] }).breakdown : [];
}

function breakdownMarkdown(all: Breakdown[], committed: Breakdown[]): string[] {
  const now = all.filter((b) => !b.build);
  const measured = all.filter((b) => b.build === 'baseline');
  const before = measured.length ? measured : committed;
  if (now.length === 0) return [];
  const columns: { title: string; stages: StageSummary[] }[] = [];
  for (const b of now) {
    const old = before.find((o) => o.serverModel === b.serverModel);
    if (old) columns.push({ title: `${b.serverModel} before`, stages: old.stages });
    columns.push({ title: old ? `${b.serverModel} after` : b.serverModel, stages: b.stages });
  }
  const us = (stages: StageSummary[], stage: string) => {
    const s = stages.find((x) => x.stage === stage);
    return s && Number.isFinite(s.p50Ms) ? (s.p50Ms * 1000).toFixed(1) : '-';
  };
  return [
    `Where a request's time goes in the server: p50 microseconds per stage over ${BREAKDOWN_REQUESTS} sequential requests (concurrency 1, batch 1, binary tensors), from the server's ONNXFORGE_SERVE_PROFILE=1 marks. Stages are medians taken separately, so they need not add up to the total; HTTP parsing before Node's request event and the socket round trip are not in it (see http-floor).` + (measured.length ? ' "before": the server built from the commit before the request path was trimmed (--baseline), measured in this run, interleaved with "after" (this build).'
      : before.length ? ' "before": the request path before it was trimmed (an earlier run, committed in serve-breakdown-before.json); "after": this run.' : ''),
    '',
    `| stage | ${columns.map((c) => c.title).join(' | ')} | what |`,
    `| --- | ${columns.map(() => '---:').join(' | ')} | --- |`,
    ...now[0].stages.map((s) => `| ${s.stage} | ${columns.map((c) => us(c.stages, s.stage)).join(' | ')} | ${s.what} |`),
    '',
  ];
}

async function serverCounters(agent: http.Agent, url: string, model: string): Promise<{ inferences: number; executions: number }> {
  const text = await httpGetText(agent, `${url}/metrics`);
  const value = (name: string) => {
    const match = new RegExp(`^${name}\\{model="${model}",version="1"\\} (\\S+)$`, 'm').exec(text);
    return match ? Number(match[1]) : 0;
  };
  return { inferences: value('onnxforge_inferences_total'), executions: value('onnxforge_executions_total') };
}

/** Isolation 'none' against 'thread', per model and engine, from the same run's points. */
interface IsolationRow {
  model: string;
  engine: 'ort' | 'native';
  /** Server p50 minus the bare engine's p50 at concurrency 1, without batching: thread, none. */
  overheadAt1Ms: { thread: number; none: number };
  /** The same with batching on. */
  overheadAt1BatchingMs: { thread: number; none: number };
  /** req/s at 64, none over thread: without batching, with batching. */
  throughputAt64NoneOverThread: { single: number; batching: number };
  /** p99 at 64 with batching: thread, none. */
  p99At64BatchingMs: { thread: number; none: number };
}

function isolationRows(points: Point[], models: string[]): IsolationRow[] {
  const at = (model: string, mode: Point['mode'], c: number, engine: Engine) =>
    points.find((p) => p.model === model && p.mode === mode && p.concurrency === c && p.engine === engine) ?? { throughput: NaN, p50Ms: NaN, p99Ms: NaN };
  return models.flatMap((model) => ENGINES.map((engine): IsolationRow => {
    const bare = at(model, engine === 'ort' ? 'onnxruntime' : 'native', 1, engine).p50Ms;
    return {
      model,
      engine,
      overheadAt1Ms: { thread: at(model, 'server-single', 1, engine).p50Ms - bare, none: at(model, 'server-single-none', 1, engine).p50Ms - bare },
      overheadAt1BatchingMs: { thread: at(model, 'server-batching', 1, engine).p50Ms - bare, none: at(model, 'server-batching-none', 1, engine).p50Ms - bare },
      throughputAt64NoneOverThread: {
        single: at(model, 'server-single-none', 64, engine).throughput / at(model, 'server-single', 64, engine).throughput,
        batching: at(model, 'server-batching-none', 64, engine).throughput / at(model, 'server-batching', 64, engine).throughput,
      },
      p99At64BatchingMs: { thread: at(model, 'server-batching', 64, engine).p99Ms, none: at(model, 'server-batching-none', 64, engine).p99Ms },
    };
  }));
}

function isolationMarkdown(rows: IsolationRow[]): string[] {
  const ms = (v: number) => (Number.isFinite(v) ? `+${v.toFixed(3)}` : '-');
  const x = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}x` : '-');
  return [
    "Isolation 'none' (the instance in the server's thread, the engine's run called directly) against 'thread' (a worker thread per instance), same server, same run. Overhead: server p50 minus the bare engine's p50 at concurrency 1 (target <= 0.3 ms).",
    '',
    '| model | engine | overhead at 1, thread | overhead at 1, none | overhead at 1 batching, thread | overhead at 1 batching, none | req/s at 64 none / thread, single | req/s at 64 none / thread, batching | p99 at 64 batching, thread / none ms |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.model} | ${r.engine} | ${ms(r.overheadAt1Ms.thread)} ms | ${ms(r.overheadAt1Ms.none)} ms | ${ms(r.overheadAt1BatchingMs.thread)} ms | ${ms(r.overheadAt1BatchingMs.none)} ms `
      + `| ${x(r.throughputAt64NoneOverThread.single)} | ${x(r.throughputAt64NoneOverThread.batching)} | ${r.p99At64BatchingMs.thread.toFixed(2)} / ${r.p99At64BatchingMs.none.toFixed(2)} |`),
    '',
  ];
}

/** req/s per model, engine and concurrency: the bare engine and each server mode, one bar each. */
function throughputChart(points: Point[], machine: string): string {
  const series: { label: string; mode: Point['mode'] | 'bare' }[] = [
    { label: 'bare engine, in-process', mode: 'bare' },
    { label: "server, no batching, isolation thread", mode: 'server-single' },
    { label: "server, no batching, isolation none", mode: 'server-single-none' },
    { label: "server, batching, isolation thread", mode: 'server-batching' },
    { label: "server, batching, isolation none", mode: 'server-batching-none' },
  ];
  const keys = [...new Set(points.filter((p) => p.engine !== '-').map((p) => `${p.model}|${p.engine}|${p.concurrency}`))];
  return renderBarChart({
    title: `serve: req/s against concurrency, batch-1 binary requests (${machine}; shared machine, noisy)`,
    unit: 'requests per second',
    series: series.map((s) => s.label),
    rows: keys.map((key) => {
      const [model, engine, concurrency] = key.split('|');
      const find = (mode: Point['mode']) => points.find((p) => p.model === model && p.engine === engine && p.concurrency === Number(concurrency) && p.mode === mode)?.throughput ?? null;
      return { label: `${model}, ${engine}, concurrency ${concurrency}`, values: series.map((s) => find(s.mode === 'bare' ? (engine === 'ort' ? 'onnxruntime' : 'native') : s.mode)) };
    }),
  });
}

function markdown(points: Point[], summary: Summary[], isolation: IsolationRow[], breakdown: string[], machine: string, durationMs: number, rounds: number): string {
  const lines = [
    `# serve: KServe v2 server vs the bare engines, onnxruntime-node and native (${machine})`,
    '',
    `Each point: ${durationMs} ms of closed-loop load after a warm-up, in ${rounds} slices interleaved with the other modes; requests carry one row (batch 1) as binary tensors over HTTP/1.1 keep-alive.`,
    `Server: \`onnxforge serve\` in its own process, 1 instance per model, ${THREADS} engine thread, the engine pinned per model (config.json engine); onnxruntime / native: the bare engine's session.run in a loop in the bench process, ${THREADS} thread. The machine was shared with other jobs while measuring: figures are noisy.`,
    '',
    '| model | mode | engine | concurrency | req/s | p50 ms | p99 ms | rows/run | CPU ms/req | errors |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...points.map((p) => `| ${p.model} | ${p.mode} | ${p.engine} | ${p.concurrency} | ${p.throughput.toFixed(0)} | ${p.p50Ms.toFixed(3)} | ${p.p99Ms.toFixed(3)} | ${p.meanBatch.toFixed(1)} | ${p.cpuMsPerRequest.toFixed(3)} | ${p.errors} |`),
    '',
    'CPU ms/req: CPU time of the process doing the work (all its threads) per answered request: the server process, or the bench process for onnxruntime.',
    '',
    'http-floor: GET /v2/health/live on the same server, the cost of one HTTP round trip here. runtime-*: ModelRuntime in the bench process (worker thread + scheduler, no HTTP). server-single-baseline: the same model on a second server built from another commit (--baseline=DIR), measured in the same slices. server-*-none: the same models with isolation "none" (the instance in the server thread), measured at concurrency 1 and 64.',
    '',
    '| model | batching gain at 64, server (target >= 3x) | in-process runtime | server batching at 64 vs onnxruntime ' + MAX_BATCH + '-row batches in-process (target >= 0.8x) | server batching p99/p50 at 64 (target <= 3) | server overhead at 1, p50, onnxruntime (target <= 0.3 ms) | server overhead at 1, p50, onnxruntime, baseline build | server overhead at 1, p50, native | HTTP round trip (GET health) p50 | runtime overhead at 1, p50 | server CPU overhead at 1 (baseline build) | native / onnxruntime bare p50 at 1 | native / onnxruntime server req/s at 64 (batching) | errors |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...summary.map((s) => `| ${s.model} | ${s.batchingGainAt64.toFixed(2)}x | ${s.runtimeBatchingGainAt64.toFixed(2)}x `
      + `| ${s.serverVsEngineBatchedAt64.toFixed(2)}x of ${s.engineBatchedRowsPerSec.toFixed(0)} rows/s | ${s.p99OverP50At64.toFixed(2)} `
      + `| +${s.overheadAt1Ms.toFixed(3)} ms (+${s.overheadAt1BatchingMs.toFixed(3)} ms batching) | +${s.overheadAt1BaselineMs.toFixed(3)} ms | +${s.nativeOverheadAt1Ms.toFixed(3)} ms | ${s.httpFloorAt1Ms.toFixed(3)} ms `
      + `| +${s.runtimeOverheadAt1Ms.toFixed(3)} ms | +${s.cpuOverheadAt1Ms.toFixed(3)} ms (+${s.cpuOverheadAt1BaselineMs.toFixed(3)} ms) | ${s.nativeBareP50Ratio.toFixed(2)}x | ${s.nativeServerThroughputRatioAt64.toFixed(2)}x | ${s.errors} |`),
    '',
    ...isolationMarkdown(isolation),
    ...breakdown,
  ];
  return lines.join('\n');
}

interface Summary {
  model: string;
  batchingGainAt64: number;
  /** Rows/s of bare onnxruntime running MAX_BATCH-row batches in a loop in-process: the engine's best batched throughput. */
  engineBatchedRowsPerSec: number;
  /** server-batching at 64 (rows/s) over engineBatchedRowsPerSec (target >= 0.8). */
  serverVsEngineBatchedAt64: number;
  /** server-batching at 64: p99 over p50 (target <= 3). */
  p99OverP50At64: number;
  /** The same, in-process through ModelRuntime (no HTTP). */
  runtimeBatchingGainAt64: number;
  /** ModelRuntime (worker thread, scheduler) p50 minus bare onnxruntime p50, at concurrency 1. */
  runtimeOverheadAt1Ms: number;
  /** p50 of GET /v2/health/live: what one HTTP round trip costs on this machine. */
  httpFloorAt1Ms: number;
  overheadAt1Ms: number;
  overheadAt1BatchingMs: number;
  /** The same for the --baseline build's server, in this run (NaN without one). */
  overheadAt1BaselineMs: number;
  cpuOverheadAt1BaselineMs: number;
  /** Server on the native engine p50 minus the bare native engine p50, at concurrency 1 without batching. */
  nativeOverheadAt1Ms: number;
  /** Bare native p50 over bare onnxruntime p50 at concurrency 1 (below 1: native is faster). */
  nativeBareP50Ratio: number;
  /** Server req/s with batching at 64, native over onnxruntime (above 1: native serves more). */
  nativeServerThroughputRatioAt64: number;
  /** Server process CPU per request minus onnxruntime's, at concurrency 1 without batching. */
  cpuOverheadAt1Ms: number;
  errors: number;
}

export async function runServeBench(args: string[]): Promise<void> {
  const { flag, outDir } = benchFlags(args);
  const durationMs = Number(flag('duration') ?? 2000);
  const rounds = Number(flag('rounds') ?? 8);
  const concurrencies = flag('concurrency')?.split(',').map(Number) ?? CONCURRENCY;
  const machine = `${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} logical cores, Node ${process.version}`;
  const models = benchModels();
  const repo = writeRepository(models);
  process.stderr.write(`serve: starting the server on ${repo}\n`);
  const { child, url } = await startServer(repo);
  // --baseline=DIR: a second server from another build (a checkout with dist/ built), measured alongside.
  const baselineDir = flag('baseline');
  const baseline = baselineDir ? await startServer(repo, path.join(path.resolve(baselineDir), 'dist/lib/cli/main.js')) : undefined;
  const runtime = new ModelRuntime({ repository: repo });
  await runtime.start();
  const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(...CONCURRENCY) });
  const points: Point[] = [];
  const engineBatched = new Map<string, number>();
  const breakdown: Breakdown[] = [];
  try {
    for (const m of models) {
      const data = randomUniform(m.shape.reduce((a, b) => a * b, 1), 7, -1, 1);
      const feeds: Feeds = { input: { type: 'float32', dims: m.shape, data } };
      const file = path.join(repo, `${m.name}_single`, '1', 'model.onnx');
      const session: Session = await new OrtEngine().load(file, { threads: THREADS });
      const nativeSession: Session = await new NativeEngine().load(file, { threads: THREADS });
      const request = binaryRequest(m.shape, data);
      const headers = { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(request.headerLength) };
      try {
        const modes: Mode[] = [
          { name: 'onnxruntime', engine: 'ort', send: () => session.run(feeds).then(() => true), cpuMs: ownCpuMs },
          { name: 'native', engine: 'native', send: () => nativeSession.run(feeds).then(() => true), cpuMs: ownCpuMs },
          ...(['batching', 'single'] as const).map((kind): Mode => ({
            name: `runtime-${kind}`,
            engine: 'ort',
            send: () => runtime.infer(served(m.name, kind, 'ort'), feeds).then(() => true),
            cpuMs: ownCpuMs,
          })),
          ...ISOLATIONS.flatMap((isolation) => ENGINES.flatMap((engine) => (['batching', 'single'] as const).map((kind): Mode => {
            const target = new URL(`${url}/v2/models/${served(m.name, kind, engine, isolation)}/infer`);
            return {
              name: isolation === 'none' ? `server-${kind}-none` : `server-${kind}`,
              engine,
              send: () =>
                httpPost(agent, target, request.body, headers).then((r) => {
                  if (r.status !== 200) reportError(`HTTP ${r.status}: ${r.body.toString().slice(0, 200)}`);
                  return r.status === 200;
                }),
              cpuMs: () => processCpuMs(child.pid!),
              serverModel: served(m.name, kind, engine, isolation),
              // Isolation 'none' is measured where the targets are: one client, and 64.
              skipAt16: isolation === 'none',
            };
          }))),
          ...(baseline ? [((): Mode => {
            const target = new URL(`${baseline.url}/v2/models/${served(m.name, 'single', 'ort')}/infer`);
            return {
              name: 'server-single-baseline', engine: 'ort', onlyAt1: true, cpuMs: () => processCpuMs(baseline.child.pid!),
              send: () => httpPost(agent, target, request.body, headers).then((r) => r.status === 200),
            };
          })()] : []),
          { name: 'http-floor', engine: '-', send: () => httpGet(agent, `${url}/v2/health/live`).then((status) => status === 200), cpuMs: () => processCpuMs(child.pid!), onlyAt1: true },
        ];
        for (const concurrency of concurrencies) {
          process.stderr.write(`serve: ${m.name}, concurrency ${concurrency}\n`);
          const active = modes.filter((mode) => (concurrency === 1 || !mode.onlyAt1) && !(concurrency === 16 && mode.skipAt16));
          const before = await Promise.all(active.map((mode) => (mode.serverModel ? serverCounters(agent, url, mode.serverModel) : undefined)));
          const tallies = await measureModes(active, concurrency, durationMs, rounds);
          for (const [i, mode] of active.entries()) {
            let meanBatch = 1;
            if (mode.serverModel) {
              const after = await serverCounters(agent, url, mode.serverModel);
              const runs = after.executions - before[i]!.executions;
              meanBatch = runs > 0 ? (after.inferences - before[i]!.inferences) / runs : 0;
            }
            points.push(point(m.name, mode.name, mode.engine, concurrency, tallies.get(mode)!, meanBatch));
          }
        }
        engineBatched.set(m.name, await batchedRowsPerSec(session, m.shape, durationMs));
        process.stderr.write(`serve: ${m.name}, stage breakdown\n`);
        for (const target of [url, ...(baseline ? [baseline.url] : [])]) await httpPost(agent, new URL(`${target}/v2/debug/profile/reset`), Buffer.alloc(0), {});
        const single = served(m.name, 'single', 'ort');
        const [ortStages, baselineStages] = await serverBreakdowns(agent, [{ url, serverModel: single }, ...(baseline ? [{ url: baseline.url, serverModel: single }] : [])], request.body, headers);
        breakdown.push({ model: m.name, serverModel: single, stages: ortStages });
        if (baselineStages?.length) breakdown.push({ model: m.name, serverModel: single, build: 'baseline', stages: baselineStages });
        await httpPost(agent, new URL(`${url}/v2/debug/profile/reset`), Buffer.alloc(0), {});
        const nativeSingle = served(m.name, 'single', 'native');
        const [nativeStages] = await serverBreakdowns(agent, [{ url, serverModel: nativeSingle }], request.body, headers);
        breakdown.push({ model: m.name, serverModel: nativeSingle, stages: nativeStages });
        for (const engine of ENGINES) {
          await httpPost(agent, new URL(`${url}/v2/debug/profile/reset`), Buffer.alloc(0), {});
          const noneSingle = served(m.name, 'single', engine, 'none');
          const [noneStages] = await serverBreakdowns(agent, [{ url, serverModel: noneSingle }], request.body, headers);
          breakdown.push({ model: m.name, serverModel: noneSingle, stages: noneStages });
        }
      } finally {
        await session.dispose();
        await nativeSession.dispose();
      }
    }
  } finally {
    agent.destroy();
    await runtime.close();
    for (const server of [child, ...(baseline ? [baseline.child] : [])]) {
      server.kill('SIGTERM');
      await new Promise((resolve) => server.once('exit', resolve));
    }
    fs.rmSync(repo, { recursive: true, force: true });
  }
  // A point not measured (--concurrency left it out) reads NaN in the summary.
  const missing = { throughput: NaN, p50Ms: NaN, p99Ms: NaN, cpuMsPerRequest: NaN };
  const find = (model: string, mode: Point['mode'], c: number, engine: Engine = 'ort') =>
    points.find((p) => p.model === model && p.mode === mode && p.concurrency === c && (p.engine === engine || p.engine === '-')) ?? missing;
  const summary: Summary[] = models.map((m) => ({
    model: m.name,
    batchingGainAt64: find(m.name, 'server-batching', 64).throughput / find(m.name, 'server-single', 64).throughput,
    engineBatchedRowsPerSec: engineBatched.get(m.name)!,
    serverVsEngineBatchedAt64: find(m.name, 'server-batching', 64).throughput / engineBatched.get(m.name)!,
    p99OverP50At64: find(m.name, 'server-batching', 64).p99Ms / find(m.name, 'server-batching', 64).p50Ms,
    runtimeBatchingGainAt64: find(m.name, 'runtime-batching', 64).throughput / find(m.name, 'runtime-single', 64).throughput,
    runtimeOverheadAt1Ms: find(m.name, 'runtime-single', 1).p50Ms - find(m.name, 'onnxruntime', 1).p50Ms,
    httpFloorAt1Ms: find(m.name, 'http-floor', 1).p50Ms,
    overheadAt1Ms: find(m.name, 'server-single', 1).p50Ms - find(m.name, 'onnxruntime', 1).p50Ms,
    overheadAt1BatchingMs: find(m.name, 'server-batching', 1).p50Ms - find(m.name, 'onnxruntime', 1).p50Ms,
    overheadAt1BaselineMs: find(m.name, 'server-single-baseline', 1).p50Ms - find(m.name, 'onnxruntime', 1).p50Ms,
    cpuOverheadAt1BaselineMs: find(m.name, 'server-single-baseline', 1).cpuMsPerRequest - find(m.name, 'onnxruntime', 1).cpuMsPerRequest,
    nativeOverheadAt1Ms: find(m.name, 'server-single', 1, 'native').p50Ms - find(m.name, 'native', 1, 'native').p50Ms,
    nativeBareP50Ratio: find(m.name, 'native', 1, 'native').p50Ms / find(m.name, 'onnxruntime', 1).p50Ms,
    nativeServerThroughputRatioAt64: find(m.name, 'server-batching', 64, 'native').throughput / find(m.name, 'server-batching', 64).throughput,
    cpuOverheadAt1Ms: find(m.name, 'server-single', 1).cpuMsPerRequest - find(m.name, 'onnxruntime', 1).cpuMsPerRequest,
    errors: points.filter((p) => p.model === m.name).reduce((sum, p) => sum + p.errors, 0),
  }));
  const isolation = isolationRows(points, models.map((m) => m.name));
  const result = { suite: 'serve', machine, threads: THREADS, durationMs, rounds, points, summary, isolation, breakdown };
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'serve.svg'), throughputChart(points, machine));
  writeResults(outDir, 'serve', result, markdown(points, summary, isolation, breakdownMarkdown(breakdown, breakdownBefore(outDir)), machine, durationMs, rounds));
}
