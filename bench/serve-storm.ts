// npm run bench -- serve-storm: what the server holds under storms (issue 22).
// 1. Bad requests: requests/s of a storm of malformed requests (every kind, cycled), and of good requests
//    alone and during the storm, against one `onnxforge serve` process.
// 2. Large requests: resident memory of the server (and its instance process) before, at the peak of and
//    after 3 rounds of 4 concurrent 4 MiB requests whose activations are ~50x the request, for onnxruntime's
//    arena on (its default) and off, with and without glibc's mmap threshold fixed, and isolation 'process'.
// 3. What each protection costs, per request through ModelRuntime (median, interleaved): isolation
//    'process' vs 'thread' (a small request and a 4 MiB one; arena on for both so the transport is what
//    differs), with the tensors through shared memory and, for comparison, over the IPC channel (before), and onnxruntime's arena off vs on (a small and a large request).
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import type { Feeds } from '../lib/engine/tensor';
import { buildMlp, GraphBuilder, Model, saveModel } from '../lib/onnx';
import { ModelRuntime } from '../lib/runtime/runtime';
import { benchFlags } from './flags';
import { machineName, writeResults } from './results';
import { startCliJson } from './cli-child';

const WIDE_ROWS = 16384;
const MIB = 1024 * 1024;

function writeRepo(models: Record<string, { model: Model; config?: object }>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxforge-storm-'));
  for (const [name, { model, config }] of Object.entries(models)) {
    fs.mkdirSync(path.join(root, name, '1'), { recursive: true });
    saveModel(model, path.join(root, name, '1', 'model.onnx'));
    if (config) fs.writeFileSync(path.join(root, name, 'config.json'), JSON.stringify(config));
  }
  return root;
}

const small = () => buildMlp({ inputSize: 8, hidden: [16], outputSize: 4 });
/** [n, 64] -> [n, 1024] -> [n, 64]: 13 KiB of activations per 256-byte row. */
const wide = () => buildMlp({ inputSize: 64, hidden: [1024], outputSize: 64 });
/** [n, 1024] -> Relu: no compute to speak of, so a large request measures the transport. */
function relu(): Model {
  const g = new GraphBuilder('relu');
  g.node('Relu', [g.input('input', 'float32', ['batch', 1024])], ['output']);
  g.output('output', 'float32', ['batch', 1024]);
  return g.build();
}

async function startServer(repo: string, env: NodeJS.ProcessEnv = process.env): Promise<{ child: ChildProcess; url: string }> {
  const { child, ready } = await startCliJson<{ url: string }>(['serve', repo, '--port', '0', '--json'], env);
  return { child, url: ready.url };
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
}

function send(agent: http.Agent, url: string, body: Buffer | string, headers: Record<string, string>): Promise<number> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { agent, hostname: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function residentBytes(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
  } catch {
    return NaN;
  }
}

interface Request {
  body: string;
  headers: Record<string, string>;
  model: string;
  status: number;
}

const JSON_TYPE = { 'content-type': 'application/json' };
const goodInput = { name: 'input', datatype: 'FP32', shape: [2, 8], data: Array.from({ length: 16 }, (_, i) => i / 16) };
const GOOD: Request = { body: JSON.stringify({ inputs: [goodInput] }), headers: JSON_TYPE, model: 'mlp', status: 200 };
const withInput = (fields: object) => JSON.stringify({ inputs: [{ ...goodInput, ...fields }] });
const BAD: Request[] = [
  { body: '{"inputs": [', headers: JSON_TYPE, model: 'mlp', status: 400 },
  { body: withInput({ datatype: 'INT32' }), headers: JSON_TYPE, model: 'mlp', status: 400 },
  { body: withInput({ shape: [4, 4] }), headers: JSON_TYPE, model: 'mlp', status: 400 },
  { body: withInput({ shape: [0, 8], data: [] }), headers: JSON_TYPE, model: 'mlp', status: 400 },
  { body: withInput({ shape: [2 ** 40, 2 ** 40], data: [] }), headers: JSON_TYPE, model: 'mlp', status: 413 },
  { body: GOOD.body, headers: { 'content-type': 'text/plain' }, model: 'mlp', status: 415 },
  { body: `{"inputs":${'['.repeat(5000)}${']'.repeat(5000)}}`, headers: JSON_TYPE, model: 'mlp', status: 400 },
  { body: GOOD.body, headers: JSON_TYPE, model: 'nope', status: 404 },
  { body: JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [100, 64], data: new Array(6400).fill(1) }] }), headers: JSON_TYPE, model: 'wide', status: 413 },
];

interface Tally {
  requests: number;
  unexpected: number;
  perSecond: number;
}

/** `concurrency` loops sending `requests` in turn for `ms`; counts replies whose status is not the expected one. */
async function drive(agent: http.Agent, url: string, requests: Request[], concurrency: number, ms: number): Promise<Tally> {
  let count = 0;
  let unexpected = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, lane) => {
      for (let i = lane; performance.now() - start < ms; i += concurrency) {
        const r = requests[i % requests.length];
        const status = await send(agent, `${url}/v2/models/${r.model}/infer`, r.body, r.headers).catch(() => 0);
        count++;
        if (status !== r.status) unexpected++;
      }
    }),
  );
  return { requests: count, unexpected, perSecond: count / ((performance.now() - start) / 1000) };
}

async function badStorm(ms: number) {
  const repo = writeRepo({ mlp: { model: small(), config: { threads: 1 } }, wide: { model: wide(), config: { max_request_memory_bytes: MIB, threads: 1 } } });
  const { child, url } = await startServer(repo);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  try {
    await drive(agent, url, [GOOD, ...BAD], 8, ms / 4); // warm-up
    const goodAlone = await drive(agent, url, [GOOD], 16, ms);
    const badAlone = await drive(agent, url, BAD, 16, ms);
    const [goodDuring, badDuring] = await Promise.all([drive(agent, url, [GOOD], 8, ms), drive(agent, url, BAD, 8, ms)]);
    const rss = residentBytes(child.pid!);
    return { goodAlone, badAlone, goodDuring, badDuring, serverRssBytes: rss };
  } finally {
    agent.destroy();
    await stopServer(child);
  }
}

interface MemoryPoint {
  setup: string;
  baselineBytes: number;
  peakBytes: number;
  afterBytes: number;
  /** Server and instance process apart (isolation 'process'). */
  instanceBaselineBytes?: number;
  instancePeakBytes?: number;
  instanceAfterBytes?: number;
  statuses: number[];
}

async function largeStorm(setup: string, config: object, env: NodeJS.ProcessEnv, rounds: number): Promise<MemoryPoint> {
  const repo = writeRepo({ wide: { model: wide(), config: { threads: 1, ...config } } });
  const { child, url } = await startServer(repo, env);
  // No keep-alive: a round can take longer than the server's idle timeout, and a socket it closes
  // just as the next round reuses it reads ECONNRESET.
  const agent = new http.Agent({ keepAlive: false, maxSockets: 8 });
  let sampler: NodeJS.Timeout | undefined;
  try {
    const meta = (await (await fetch(`${url}/v2/models/wide`)).json()) as { instances: { isolation: string; pid: number }[] };
    const instancePid = meta.instances[0].isolation === 'process' ? meta.instances[0].pid : undefined;
    const data = new Float32Array(WIDE_ROWS * 64).fill(0.5);
    const header = Buffer.from(JSON.stringify({
      inputs: [{ name: 'input', datatype: 'FP32', shape: [WIDE_ROWS, 64], parameters: { binary_data_size: data.byteLength } }],
      outputs: [{ name: 'output', parameters: { binary_data: true } }],
    }));
    const body = Buffer.concat([header, Buffer.from(data.buffer)]);
    const headers = { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) };
    const server = () => residentBytes(child.pid!);
    const instance = () => (instancePid ? residentBytes(instancePid) : 0);
    const baselineBytes = server() + instance();
    const instanceBaselineBytes = instance();
    let peakBytes = baselineBytes;
    let instancePeakBytes = instanceBaselineBytes;
    sampler = setInterval(() => {
      peakBytes = Math.max(peakBytes, server() + instance());
      instancePeakBytes = Math.max(instancePeakBytes, instance());
    }, 10);
    const statuses: number[] = [];
    for (let round = 0; round < rounds; round++) {
      statuses.push(...(await Promise.all(Array.from({ length: 4 }, () => send(agent, `${url}/v2/models/wide/infer`, body, headers)))));
    }
    clearInterval(sampler);
    // A second for the server's own garbage collector to run; nothing is forced.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const point: MemoryPoint = { setup, baselineBytes, peakBytes, afterBytes: server() + instance(), statuses: [...new Set(statuses)] };
    if (instancePid) Object.assign(point, { instanceBaselineBytes, instancePeakBytes, instanceAfterBytes: instance() });
    return point;
  } finally {
    clearInterval(sampler);
    agent.destroy();
    await stopServer(child);
  }
}

interface OverheadPoint {
  comparison: string;
  request: string;
  baselineMs: number;
  variantMs: number;
  ratio: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const rowsOf = (rows: number, width: number) => (): Feeds => ({ input: { type: 'float32', dims: [rows, width], data: new Float32Array(rows * width).fill(0.5) } });

async function protectionCosts(repeats: number): Promise<OverheadPoint[]> {
  const arenaOn = { threads: 1, memory_arena: true, engine: 'ort' };
  const repo = writeRepo({
    mlp_thread: { model: small(), config: arenaOn },
    mlp_process: { model: small(), config: { ...arenaOn, isolation: 'process' } },
    relu_thread: { model: relu(), config: arenaOn },
    relu_process: { model: relu(), config: { ...arenaOn, isolation: 'process' } },
    mlp_arena: { model: small(), config: arenaOn },
    mlp_noarena: { model: small(), config: { threads: 1, engine: 'ort' } },
    wide_arena: { model: wide(), config: arenaOn },
    wide_noarena: { model: wide(), config: { threads: 1, engine: 'ort' } },
  });
  // The same 'process' models with tensors over the IPC channel (what isolation 'process' did before
  // shared memory, and its fallback where there is none): the setting is read when an instance starts.
  const ipcRepo = writeRepo({
    mlp_process_ipc: { model: small(), config: { ...arenaOn, isolation: 'process' } },
    relu_process_ipc: { model: relu(), config: { ...arenaOn, isolation: 'process' } },
  });
  const saved = process.env.ONNXFORGE_PROCESS_TENSORS;
  process.env.ONNXFORGE_PROCESS_TENSORS = 'ipc';
  const ipcRuntime = new ModelRuntime({ repository: ipcRepo });
  try {
    await ipcRuntime.start();
  } finally {
    if (saved === undefined) delete process.env.ONNXFORGE_PROCESS_TENSORS;
    else process.env.ONNXFORGE_PROCESS_TENSORS = saved;
  }
  const runtime = new ModelRuntime({ repository: repo });
  await runtime.start();
  const runtimeOf = (model: string) => (model.endsWith('_ipc') ? ipcRuntime : runtime);
  const cases: { comparison: string; request: string; baseline: string; variant: string; feeds: () => Feeds; repeats: number }[] = [
    { comparison: "isolation 'process' (IPC channel, before) / 'thread'", request: 'MLP [1, 8]', baseline: 'mlp_thread', variant: 'mlp_process_ipc', feeds: rowsOf(1, 8), repeats },
    { comparison: "isolation 'process' (shared memory) / 'thread'", request: 'MLP [1, 8]', baseline: 'mlp_thread', variant: 'mlp_process', feeds: rowsOf(1, 8), repeats },
    { comparison: "isolation 'process' (IPC channel, before) / 'thread'", request: 'Relu [1024, 1024] (4 MiB in, 4 MiB out)', baseline: 'relu_thread', variant: 'relu_process_ipc', feeds: rowsOf(1024, 1024), repeats },
    { comparison: "isolation 'process' (shared memory) / 'thread'", request: 'Relu [1024, 1024] (4 MiB in, 4 MiB out)', baseline: 'relu_thread', variant: 'relu_process', feeds: rowsOf(1024, 1024), repeats },
    { comparison: "isolation 'process': shared memory / IPC channel", request: 'Relu [1024, 1024] (4 MiB in, 4 MiB out)', baseline: 'relu_process_ipc', variant: 'relu_process', feeds: rowsOf(1024, 1024), repeats },
    { comparison: 'arena off / on', request: 'MLP [1, 8]', baseline: 'mlp_arena', variant: 'mlp_noarena', feeds: rowsOf(1, 8), repeats },
    { comparison: 'arena off / on', request: 'wide MLP [4096, 64] (1 MiB in, ~51 MiB of activations)', baseline: 'wide_arena', variant: 'wide_noarena', feeds: rowsOf(4096, 64), repeats: Math.max(5, repeats / 4) },
    // Tensors past glibc's largest mmap threshold (32 MiB): without the arena each run maps them afresh.
    { comparison: 'arena off / on', request: 'wide MLP [16384, 64] (4 MiB in, ~204 MiB of activations)', baseline: 'wide_arena', variant: 'wide_noarena', feeds: rowsOf(16384, 64), repeats: Math.max(3, repeats / 8) },
  ];
  const points: OverheadPoint[] = [];
  try {
    for (const c of cases) {
      const timeOne = async (model: string) => {
        const feeds = c.feeds();
        const start = performance.now();
        await runtimeOf(model).infer(model, feeds);
        return performance.now() - start;
      };
      for (let i = 0; i < 5; i++) for (const model of [c.baseline, c.variant]) await timeOne(model);
      const samples: Record<string, number[]> = { [c.baseline]: [], [c.variant]: [] };
      // Interleaved, so both sides see the same machine load.
      for (let i = 0; i < c.repeats; i++) for (const model of [c.baseline, c.variant]) samples[model].push(await timeOne(model));
      const baselineMs = median(samples[c.baseline]);
      const variantMs = median(samples[c.variant]);
      points.push({ comparison: c.comparison, request: c.request, baselineMs, variantMs, ratio: variantMs / baselineMs });
    }
  } finally {
    await Promise.all([runtime.close(), ipcRuntime.close()]);
  }
  return points;
}

const mib = (bytes: number | undefined) => (bytes === undefined || Number.isNaN(bytes) ? '–' : (bytes / MIB).toFixed(0));

function markdown(result: Awaited<ReturnType<typeof measure>>): string {
  const { storm, memory, overhead, machine, stormMs, rounds, repeats } = result;
  const rate = (t: Tally) => `${t.perSecond.toFixed(0)} (${t.unexpected} unexpected of ${t.requests})`;
  const lines = [
    '# serve-storm',
    '',
    `Machine: ${machine}; 1-minute load average when the run ended: ${os.loadavg()[0].toFixed(1)} (above the core count, other programs competed for the CPU and the figures are that noisy).`,
    '',
    `## Bad-request storm (${stormMs} ms per phase, 16 connections; requests/s)`,
    '',
    '| traffic | requests/s |',
    '| --- | --- |',
    `| good requests alone (MLP [2, 8]) | ${rate(storm.goodAlone)} |`,
    `| bad requests alone (${BAD.length} kinds, cycled) | ${rate(storm.badAlone)} |`,
    `| good requests during the bad storm (8 + 8 connections) | ${rate(storm.goodDuring)} |`,
    `| bad requests during it | ${rate(storm.badDuring)} |`,
    '',
    `Good requests held ${(100 * storm.goodDuring.perSecond / storm.goodAlone.perSecond).toFixed(0)}% of their rate alone with half the connections; server RSS after the storm ${mib(storm.serverRssBytes)} MiB.`,
    '',
    `## Large-request storm (${rounds} rounds of 4 concurrent 4 MiB requests; ~${((WIDE_ROWS * 13056) / MIB).toFixed(0)} MiB of activations each by the estimate)`,
    '',
    'Resident memory in MiB (server + instance process where isolated); "after" is one second after the storm.',
    '',
    '| setup | baseline | peak | after | after - baseline | instance process: baseline / peak / after |',
    '| --- | --- | --- | --- | --- | --- |',
    ...memory.map((p) => `| ${p.setup} | ${mib(p.baselineBytes)} | ${mib(p.peakBytes)} | ${mib(p.afterBytes)} | ${mib(p.afterBytes - p.baselineBytes)} | ${p.instancePeakBytes !== undefined ? `${mib(p.instanceBaselineBytes)} / ${mib(p.instancePeakBytes)} / ${mib(p.instanceAfterBytes)}` : '–'} |`),
    '',
    `## What each protection costs per request (ModelRuntime.infer, median of ${repeats} (large: fewer), interleaved)`,
    '',
    '| comparison | request | baseline (ms) | with it (ms) | ratio |',
    '| --- | --- | --- | --- | --- |',
    ...overhead.map((p) => `| ${p.comparison} | ${p.request} | ${p.baselineMs.toFixed(3)} | ${p.variantMs.toFixed(3)} | ${p.ratio.toFixed(2)} |`),
    '',
  ];
  return lines.join('\n');
}

async function measure(quick: boolean) {
  const stormMs = quick ? 1000 : 3000;
  const rounds = quick ? 2 : 3;
  const repeats = quick ? 20 : 60;
  process.stderr.write('serve-storm: bad-request storm\n');
  const storm = await badStorm(stormMs);
  const threshold = { ...process.env, MALLOC_MMAP_THRESHOLD_: '131072' };
  const plain = { ...process.env };
  delete plain.MALLOC_MMAP_THRESHOLD_;
  const setups: [string, object, NodeJS.ProcessEnv][] = [
    // The arena rows pin onnxruntime (what they compare is its arena); the native row is what auto picks here.
    ['thread, onnxruntime, arena on (its default)', { engine: 'ort', memory_arena: true }, plain],
    ['thread, onnxruntime, arena off (served default)', { engine: 'ort' }, plain],
    ['thread, onnxruntime, arena off, MALLOC_MMAP_THRESHOLD_=131072', { engine: 'ort' }, threshold],
    ["isolation 'process', onnxruntime, arena off (threshold set in the child)", { engine: 'ort', isolation: 'process' }, plain],
    ['thread, native engine (arenas over 64 MiB freed after their run)', { engine: 'native' }, plain],
  ];
  const memory: MemoryPoint[] = [];
  for (const [setup, config, env] of setups) {
    process.stderr.write(`serve-storm: large-request storm, ${setup}\n`);
    memory.push(await largeStorm(setup, config, env, rounds));
  }
  process.stderr.write('serve-storm: what each protection costs\n');
  const overhead = await protectionCosts(repeats);
  return { machine: machineName(), shared: true, stormMs, rounds, repeats, storm, memory, overhead };
}

export async function runServeStormBench(args: string[]): Promise<void> {
  const { outDir, quick } = benchFlags(args);
  const result = await measure(quick);
  writeResults(outDir, 'serve-storm', result, markdown(result));
}
