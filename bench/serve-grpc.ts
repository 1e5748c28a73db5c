// npm run bench -- serve-grpc: the KServe v2 gRPC endpoint (`onnxforge serve --grpc-port`, raw tensor
// contents over one HTTP/2 channel from grpc-js) against a bare onnxruntime-node loop in-process and
// against the same server's binary HTTP endpoint, at concurrency 1 and 64, on a small MLP.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { percentile } from '../lib/compare/latency';
import { OrtEngine } from '../lib/engine/ort-engine';
import type { Feeds } from '../lib/engine/tensor';
import { buildMlp } from '../lib/onnx/models/mlp';
import { randomUniform } from '../lib/onnx/random';
import { saveModel } from '../lib/onnx/save';
import { inferenceClient } from '../lib/serve/grpc/proto';
import { benchFlags } from './flags';
import { writeResults } from './results';
import { startCliJson } from './cli-child';

const CONCURRENCY = [1, 64];
const THREADS = 1;
const SHAPE = [1, 256];

type ModeName = 'onnxruntime' | 'grpc-single' | 'grpc-batching' | 'http-single' | 'grpc-floor';

interface Mode {
  name: ModeName;
  send: () => Promise<void>;
  onlyAt1?: boolean;
}

interface Point {
  mode: ModeName;
  concurrency: number;
  requests: number;
  errors: number;
  throughput: number;
  p50Ms: number;
  p99Ms: number;
}

function writeRepository(): string {
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxforge-bench-grpc-'));
  const model = buildMlp({ inputSize: 256, hidden: [512, 512], outputSize: 64 });
  const configs: Record<string, object> = {
    mlp_single: { max_batch_size: 0, threads: THREADS, warmup: { samples: 2 } },
    mlp_batching: { max_batch_size: 64, dynamic_batching: { max_queue_delay_ms: 0 }, threads: THREADS, warmup: { samples: 2, batch_sizes: [1, 16, 64] } },
  };
  for (const [name, config] of Object.entries(configs)) {
    fs.mkdirSync(path.join(repo, name, '1'), { recursive: true });
    saveModel(model, path.join(repo, name, '1', 'model.onnx'));
    fs.writeFileSync(path.join(repo, name, 'config.json'), JSON.stringify(config));
  }
  return repo;
}

/** `onnxforge serve --grpc-port 0` in its own process, so the load generator does not share its event loop. */
async function startServer(repo: string): Promise<{ child: ChildProcess; url: string; grpc: string }> {
  const { child, ready } = await startCliJson<{ url: string; grpc: string }>(['serve', repo, '--port', '0', '--grpc-port', '0', '--json']);
  return { child, url: ready.url, grpc: ready.grpc };
}

async function load(concurrency: number, durationMs: number, send: () => Promise<void>): Promise<{ latencies: number[]; errors: number; elapsedMs: number }> {
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  const end = start + durationMs;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        await send();
        latencies.push(performance.now() - t0);
      } catch (err) {
        if (errors++ === 0) process.stderr.write(`serve-grpc: request failed: ${(err as Error).message}\n`);
      }
    }
  }));
  return { latencies, errors, elapsedMs: performance.now() - start };
}

/** Modes interleaved in short slices, their order rotated each round, so load from others on the machine falls on all alike. */
async function measure(modes: Mode[], concurrency: number, durationMs: number, rounds: number): Promise<Point[]> {
  const tallies = modes.map(() => ({ latencies: [] as number[], errors: 0, elapsedMs: 0 }));
  for (const mode of modes) await load(concurrency, Math.max(200, durationMs / 8), mode.send);
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < modes.length; i++) {
      const index = (i + round) % modes.length;
      const result = await load(concurrency, durationMs / rounds, modes[index].send);
      tallies[index].latencies.push(...result.latencies);
      tallies[index].errors += result.errors;
      tallies[index].elapsedMs += result.elapsedMs;
    }
  }
  return modes.map((mode, i) => {
    const sorted = tallies[i].latencies.sort((a, b) => a - b);
    return {
      mode: mode.name, concurrency, requests: sorted.length, errors: tallies[i].errors,
      throughput: (sorted.length / tallies[i].elapsedMs) * 1000, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99),
    };
  });
}

function httpPost(agent: http.Agent, url: URL, body: Buffer, headers: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request({ agent, hostname: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function markdown(points: Point[], machine: string, durationMs: number, rounds: number, loadAverage: number[]): string {
  const at = (mode: ModeName, c: number) => points.find((p) => p.mode === mode && p.concurrency === c);
  const overhead = (mode: ModeName) => (at(mode, 1)!.p50Ms - at('onnxruntime', 1)!.p50Ms).toFixed(3);
  return [
    `# serve-grpc: KServe v2 over gRPC vs bare onnxruntime-node (${machine})`,
    '',
    `Model: MLP 256-512-512-64, one row per request (raw FP32 contents), ${THREADS} onnxruntime thread, 1 instance. Each point: ${durationMs} ms of closed-loop load after a warm-up, in ${rounds} slices interleaved with the other modes.`,
    'grpc-*: grpc-js client over one HTTP/2 channel to `onnxforge serve --grpc-port` in its own process; http-single: the same server, binary tensors over HTTP/1.1 keep-alive; grpc-floor: the ServerLive RPC, the cost of one gRPC round trip here; onnxruntime: InferenceSession.run in a loop in the bench process.',
    '',
    '| mode | concurrency | req/s | p50 ms | p99 ms | errors |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...points.map((p) => `| ${p.mode} | ${p.concurrency} | ${p.throughput.toFixed(0)} | ${p.p50Ms.toFixed(3)} | ${p.p99Ms.toFixed(3)} | ${p.errors} |`),
    '',
    `p50 overhead over in-process onnxruntime at concurrency 1: gRPC +${overhead('grpc-single')} ms, HTTP +${overhead('http-single')} ms (gRPC round trip alone ${at('grpc-floor', 1)!.p50Ms.toFixed(3)} ms).`,
    '',
    `1-minute load average at the start and the end of the run: ${loadAverage.map((l) => l.toFixed(1)).join(' -> ')} (${os.cpus().length} logical cores; anything above that is other programs competing for the CPU, and the figures are that noisy).`,
    '',
  ].join('\n');
}

export async function runServeGrpcBench(args: string[]): Promise<void> {
  const { flag, outDir, quick } = benchFlags(args);
  const durationMs = Number(flag('duration') ?? (quick ? 600 : 1500));
  const rounds = Number(flag('rounds') ?? 6);
  const machine = `${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} logical cores, Node ${process.version}`;
  const loadAverage = [os.loadavg()[0]];
  const repo = writeRepository();
  const server = await startServer(repo);
  const client = new (inferenceClient())(server.grpc, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': -1, 'grpc.max_receive_message_length': -1 }) as grpc.Client & Record<string, Function>; // eslint-disable-line @typescript-eslint/no-unsafe-function-type
  const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(...CONCURRENCY) });
  const data = randomUniform(SHAPE[0] * SHAPE[1], 7, -1, 1);
  const feeds: Feeds = { input: { type: 'float32', dims: SHAPE, data } };
  const session = await new OrtEngine().load(path.join(repo, 'mlp_single', '1', 'model.onnx'), { threads: THREADS });
  const raw = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const unary = (method: string, request: object) => new Promise<void>((resolve, reject) => {
    client[method](request, (err: grpc.ServiceError | null) => (err ? reject(err) : resolve()));
  });
  const grpcInfer = (model: string) => () => unary('ModelInfer', { model_name: model, inputs: [{ name: 'input', datatype: 'FP32', shape: SHAPE }], raw_input_contents: [raw] });
  const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'input', shape: SHAPE, datatype: 'FP32', parameters: { binary_data_size: raw.length } }], parameters: { binary_data_output: true } }));
  const httpBody = Buffer.concat([header, raw]);
  const httpHeaders = { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) };
  const httpTarget = new URL(`${server.url}/v2/models/mlp_single/infer`);
  const modes: Mode[] = [
    { name: 'onnxruntime', send: () => session.run(feeds).then(() => undefined) },
    { name: 'grpc-single', send: grpcInfer('mlp_single') },
    { name: 'grpc-batching', send: grpcInfer('mlp_batching') },
    { name: 'http-single', send: () => httpPost(agent, httpTarget, httpBody, httpHeaders) },
    { name: 'grpc-floor', send: () => unary('ServerLive', {}), onlyAt1: true },
  ];
  const points: Point[] = [];
  try {
    for (const concurrency of CONCURRENCY) {
      process.stderr.write(`serve-grpc: concurrency ${concurrency}\n`);
      points.push(...await measure(modes.filter((m) => concurrency === 1 || !m.onlyAt1), concurrency, durationMs, rounds));
    }
  } finally {
    client.close();
    agent.destroy();
    await session.dispose();
    server.child.kill('SIGTERM');
    await new Promise((resolve) => server.child.once('exit', resolve));
    fs.rmSync(repo, { recursive: true, force: true });
  }
  loadAverage.push(os.loadavg()[0]);
  const p50 = (mode: ModeName) => points.find((p) => p.mode === mode && p.concurrency === 1)!.p50Ms;
  const summary = { grpcOverheadAt1Ms: p50('grpc-single') - p50('onnxruntime'), httpOverheadAt1Ms: p50('http-single') - p50('onnxruntime'), grpcFloorAt1Ms: p50('grpc-floor') };
  writeResults(outDir, 'serve-grpc', { suite: 'serve-grpc', machine, threads: THREADS, durationMs, rounds, loadAverage, points, summary }, markdown(points, machine, durationMs, rounds, loadAverage));
}
