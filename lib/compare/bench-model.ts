// benchModel: one model on several engines, on the same generated inputs, timed the same way
// (runs interleaved in rounds after a warm-up): latency percentiles, throughput, load time and
// the memory each engine's session holds.
import type { Session } from '../engine/engine';
import { loadWithEngine, type EngineChoice } from '../engine/select';
import type { NativeSession } from '../engine/native/native-engine';
import type { Feeds } from '../engine/tensor';
import { generateFeeds } from './inputs';
import { checkShapeOverrides } from './input-shapes';
import { percentile } from './latency';

export interface BenchModelOptions {
  engines?: EngineChoice[];
  /** Values of symbolic dims by name. */
  dims?: Record<string, number>;
  /** Whole input shapes by input name (reaches unnamed dims too). */
  shapes?: Record<string, readonly number[]>;
  /** The first dimension of every input whose first dimension is symbolic. */
  batch?: number;
  /** Threads inside one run, for every engine (default: each engine's own). */
  threads?: number;
  /** Timed runs per engine (default 50), after `warmup` untimed ones (default 5). */
  runs?: number;
  warmup?: number;
  seed?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface EngineBenchFigures {
  requested: EngineChoice;
  engine: 'ort' | 'native';
  reason: string;
  loadMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  meanMs: number;
  /** Samples (first input's first dimension) per second at the mean latency. */
  samplesPerSecond: number;
  /** Growth of the process's resident memory from before the load to after the last run. */
  residentBytes: number;
  /** Native engine only: packed weights and one run's arena. */
  packedWeightBytes?: number;
  arenaBytes?: number;
}

export interface BenchModelReport {
  inputs: { name: string; dims: readonly number[]; type: string }[];
  threads: number | null;
  runs: number;
  engines: EngineBenchFigures[];
}

const now = (): number => Number(process.hrtime.bigint()) / 1e6;
const SETTLE_MS = 40;

export async function benchModel(source: string | Uint8Array, options: BenchModelOptions = {}): Promise<BenchModelReport> {
  const choices = options.engines ?? ['ort', 'native'];
  const runs = options.runs ?? 50, warmup = options.warmup ?? 5;
  const loaded: { choice: EngineChoice; session: Session; engine: 'ort' | 'native'; reason: string; loadMs: number; rssBefore: number }[] = [];
  try {
    for (const choice of choices) {
      const rssBefore = process.memoryUsage().rss;
      const start = now();
      const l = await loadWithEngine(source, choice, { threads: options.threads });
      loaded.push({ choice, ...l, loadMs: now() - start, rssBefore });
    }
    const meta = loaded[0].session.inputs;
    const dims = { ...options.dims };
    if (options.batch !== undefined) for (const i of meta) if (typeof i.shape?.[0] === 'string') dims[i.shape[0]] = options.batch;
    checkShapeOverrides(meta, { dims, shapes: options.shapes });
    const feeds: Feeds = generateFeeds(meta, options.seed ?? 0, { dims, shapes: options.shapes });
    for (const l of loaded) for (let i = 0; i < warmup; i++) await l.session.run(feeds);
    // Interleaved rounds: a burst of load on the machine hits every engine alike. Each round starts
    // after a pause and an untimed run, so that one engine's threads, still spinning after its own
    // runs (onnxruntime's spin for ~20 ms), do not slow the next engine's runs.
    const times: number[][] = loaded.map(() => []);
    const rounds = Math.min(runs, 10), perRound = Math.ceil(runs / rounds);
    for (let r = 0; r < rounds; r++) {
      for (let e = 0; e < loaded.length; e++) {
        if (loaded.length > 1) {
          await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
          await loaded[e].session.run(feeds);
        }
        for (let i = 0; i < perRound && times[e].length < runs; i++) {
          const start = now();
          await loaded[e].session.run(feeds);
          times[e].push(now() - start);
        }
      }
      options.onProgress?.(r + 1, rounds);
    }
    const firstInput = Object.values(feeds)[0];
    const samples = firstInput?.dims.length ? firstInput.dims[0] : 1;
    const rss = process.memoryUsage().rss;
    return {
      inputs: Object.entries(feeds).map(([name, t]) => ({ name, dims: t.dims, type: t.type })),
      threads: options.threads ?? null,
      runs,
      engines: loaded.map((l, e) => {
        const sorted = [...times[e]].sort((a, b) => a - b);
        const mean = sorted.reduce((s, t) => s + t, 0) / sorted.length;
        const figures: EngineBenchFigures = {
          requested: l.choice, engine: l.engine, reason: l.reason, loadMs: l.loadMs,
          p50Ms: percentile(sorted, 50), p90Ms: percentile(sorted, 90), p99Ms: percentile(sorted, 99), meanMs: mean,
          samplesPerSecond: (samples * 1000) / mean,
          residentBytes: Math.max(0, rss - l.rssBefore),
        };
        if (l.engine === 'native') {
          const report = (l.session as NativeSession).report;
          figures.packedWeightBytes = report.packedWeightBytes;
          figures.arenaBytes = report.peakArenaBytes;
        }
        return figures;
      }),
    };
  } finally {
    for (const l of loaded) await l.session.dispose();
  }
}
