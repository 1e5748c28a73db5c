// npm run bench -- engine: whole models on the native engine against onnxruntime-node running the
// same file, in the same run on the same inputs (interleaved, after warm-up, medians). Models: a 4-layer
// encoder (hidden 256, ffn 1024), a BERT-base-sized one (12 x 768, ffn 3072) at seq 128, batch 1 and 8,
// and an MLP 784-1024-1024-10 at batch 1 and 64; variants dense float32, dynamic int8, 90% unstructured,
// 90% then int8, 2:4; threads 1 and 2. Flags: --quick (no BERT-base, threads 2 only), --models=mlp,encoder,bert
// (names' starts), --runs=N, --out=DIR.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { machineName, writeResults } from './results';
import { kernels } from '../lib/kernels';
import { NativeEngine, type NativeSession } from '../lib/engine/native/native-engine';
import { OrtEngine } from '../lib/engine/ort-engine';
import type { Session } from '../lib/engine/engine';
import type { Feeds } from '../lib/engine/tensor';
import { cosineSimilarity } from '../lib/compare/metrics';
import { toFloat64 } from '../lib/engine/tensor';
import { buildBertEncoder, buildMlp, serializeModel, randomNormal, type Model } from '../lib/onnx';
import { prune } from '../lib/prune';
import { quantize } from '../lib/quantize';
import { benchFlags } from './flags';
import { timeInterleaved } from './timing';
import { renderBarChart } from './svg-chart';

interface ModelSpec {
  name: string;
  build(): Model;
  feeds(batch: number): Feeds;
  batches: number[];
  /** Runs per timing at the largest batch (the large model's runs take seconds). */
  runs: number;
  big: boolean;
}

const SEQ = 128;

function encoderFeeds(vocab: number, batch: number): Feeds {
  const n = batch * SEQ;
  const ids = BigInt64Array.from(randomNormal(n, batch), (v) => BigInt(Math.abs(Math.floor(v * 1000)) % vocab));
  return {
    input_ids: { type: 'int64', dims: [batch, SEQ], data: ids },
    attention_mask: { type: 'int64', dims: [batch, SEQ], data: new BigInt64Array(n).fill(1n) },
  };
}

const MODELS: ModelSpec[] = [
  {
    name: 'encoder 4 x 256',
    build: () => buildBertEncoder({ layers: 4, hidden: 256, heads: 4, ffn: 1024, vocab: 8000, maxPositions: 512, numLabels: 2, opset: 17 }),
    feeds: (batch) => encoderFeeds(8000, batch), batches: [1, 8], runs: 20, big: false,
  },
  {
    name: 'BERT-base 12 x 768',
    build: () => buildBertEncoder({ layers: 12, hidden: 768, heads: 12, ffn: 3072, vocab: 30522, maxPositions: 512, numLabels: 2, opset: 17 }),
    feeds: (batch) => encoderFeeds(30522, batch), batches: [1, 8], runs: 5, big: true,
  },
  {
    name: 'MLP 784-1024-1024-10',
    build: () => buildMlp({ inputSize: 784, hidden: [1024, 1024], outputSize: 10 }),
    feeds: (batch) => ({ input: { type: 'float32', dims: [batch, 784], data: randomNormal(batch * 784, batch) } }),
    batches: [1, 64], runs: 200, big: false,
  },
];

type Variant = 'dense' | 'int8' | 'sparse 90%' | 'sparse 90% + int8' | '2:4';
const VARIANTS: Variant[] = ['dense', 'int8', 'sparse 90%', 'sparse 90% + int8', '2:4'];

async function variantModels(base: Model): Promise<Record<Variant, Uint8Array>> {
  const pruned = (await prune(base, { sparsity: 0.9, pattern: 'unstructured' })).model;
  return {
    dense: serializeModel(base),
    int8: serializeModel((await quantize(base, { mode: 'dynamic' })).model),
    'sparse 90%': serializeModel(pruned),
    'sparse 90% + int8': serializeModel((await quantize(pruned, { mode: 'dynamic' })).model),
    '2:4': serializeModel((await prune(base, { pattern: '2:4' })).model),
  };
}

interface Row {
  model: string; variant: Variant; batch: number; threads: number;
  ortMs: number; nativeMs: number;
  /** ortMs / nativeMs: above 1 the native engine is faster. */
  speedup: number;
  /** onnxruntime's median on the unpruned float32 model at the same batch and threads, over ours. */
  speedupVsOrtFloat: number;
  cosine: number;
  kernels: string;
  arenaBytes: number;
  packedWeightBytes: number;
}

interface LoadRow { model: string; variant: Variant; ortLoadMs: number; nativeLoadMs: number }

const now = (): number => Number(process.hrtime.bigint()) / 1e6;

async function timedLoad<T>(load: () => Promise<T>): Promise<[T, number]> {
  const start = now();
  const value = await load();
  return [value, now() - start];
}

/** Cosine of the two sessions' first outputs on `feeds`. */
export function agreement(a: Session, b: Session, feeds: Feeds): Promise<number> {
  return Promise.all([a.run(feeds), b.run(feeds)]).then(([x, y]) => {
    const name = Object.keys(x)[0];
    return cosineSimilarity(toFloat64(x[name]), toFloat64(y[name]));
  });
}

/** What the issue asks of each variant, and whether the row meets it. */
function target(row: Row, model: ModelSpec): { text: string; met: boolean } | undefined {
  switch (row.variant) {
    case 'dense':
      if (model.name.startsWith('MLP') && row.batch === 1) return { text: '>= 1.0x (batch-1 latency)', met: row.speedup >= 1 };
      return { text: '>= 0.9x', met: row.speedup >= 0.9 };
    case 'int8': return { text: '>= 1.2x', met: row.speedup >= 1.2 };
    case 'sparse 90%': return { text: '>= 3x', met: row.speedup >= 3 };
    case 'sparse 90% + int8': return { text: '>= 5x ORT f32, >= 2x ORT int8', met: row.speedupVsOrtFloat >= 5 && row.speedup >= 2 };
    default: return undefined;
  }
}

/** Both engines on the same feeds: agreement, then medians of interleaved blocks, and the native kernels used. */
export async function timeEngines(ort: Session, native: NativeSession, feeds: Feeds, runs: number, minBlocks: number):
  Promise<{ ortMs: number; nativeMs: number; cosine: number; kernels: string }> {
  const cosine = await agreement(ort, native, feeds);
  // Blocks of runs, each after a pause and an untimed run: onnxruntime's threads spin for
  // ~20 ms after a run and ours for ~1 ms; on 2 cores either would slow the other's next run.
  const [o, n] = await timeInterleaved([() => ort.run(feeds), () => native.run(feeds)], {
    budgetMs: 0, maxRuns: runs, block: Math.max(1, Math.ceil(runs / 8)), minBlocks, warmup: 2, pauseMs: 40,
  });
  const counts: Record<string, number> = {};
  for (const l of native.report.layers) counts[l.kind] = (counts[l.kind] ?? 0) + 1;
  return { ortMs: o.medianMs, nativeMs: n.medianMs, cosine, kernels: summaryLine(counts) };
}

export function summaryLine(counts: Record<string, number>): string {
  return Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(', ');
}

function markdown(rows: Row[], loads: LoadRow[], machine: string): string {
  const lines = [
    `# engine: the native engine vs onnxruntime-node on whole models (${machine})`,
    '',
    'Median latency per run, both engines awaited the same way, runs interleaved after warm-up, same inputs (seq 128 for',
    'the encoders). x ORT = onnxruntime ms / native ms on the same file (above 1: native is faster); x ORT f32 = onnxruntime',
    "on the unpruned float32 model / native. kernels: the native engine's choice per linear layer. cos: cosine of the two",
    'engines\' outputs.',
    '',
    '| model | variant | batch | threads | native ms | ORT ms | x ORT | x ORT f32 | target | met | kernels | cos |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const model = MODELS.find((m) => m.name === r.model)!;
    const t = target(r, model);
    lines.push(`| ${r.model} | ${r.variant} | ${r.batch} | ${r.threads} | ${r.nativeMs.toFixed(3)} | ${r.ortMs.toFixed(3)} | `
      + `**${r.speedup.toFixed(2)}x** | ${r.speedupVsOrtFloat.toFixed(2)}x | ${t?.text ?? '-'} | ${t ? (t.met ? 'yes' : 'NO') : '-'} | `
      + `${r.kernels} | ${r.cosine.toFixed(6)} |`);
  }
  lines.push('', '## Load time (target: native <= 2x onnxruntime session creation)', '',
    '| model | variant | native load ms | ORT session ms | ratio | met |', '| --- | --- | --- | --- | --- | --- |',
    ...loads.map((l) => `| ${l.model} | ${l.variant} | ${l.nativeLoadMs.toFixed(1)} | ${l.ortLoadMs.toFixed(1)} | `
      + `${(l.nativeLoadMs / l.ortLoadMs).toFixed(2)} | ${l.nativeLoadMs <= 2 * l.ortLoadMs ? 'yes' : 'NO'} |`),
    '', '## Memory of the native engine', '', '| model | variant | batch | packed weights | arena per run |', '| --- | --- | --- | --- | --- |',
    ...rows.filter((r) => r.threads === rows[rows.length - 1].threads)
      .map((r) => `| ${r.model} | ${r.variant} | ${r.batch} | ${(r.packedWeightBytes / 2 ** 20).toFixed(1)} MiB | ${(r.arenaBytes / 2 ** 20).toFixed(2)} MiB |`),
    '');
  return lines.join('\n');
}

export async function runEngineBench(args: string[]): Promise<void> {
  const { flag, outDir, quick } = benchFlags(args);
  const runsFlag = flag('runs');
  const info = kernels.cpuInfo();
  const features = Object.entries(info.features).filter(([, on]) => on).map(([name]) => name).join(' ');
  const machine = `${machineName()}; features: ${features}`;
  const threadCounts = quick ? [2] : [1, 2];
  const rows: Row[] = [];
  const loads: LoadRow[] = [];
  const before = kernels.getNumThreads();
  try {
    const only = flag('models')?.split(',');
    for (const model of MODELS.filter((m) => (!quick || !m.big) && (!only || only.some((o) => m.name.toLowerCase().startsWith(o.toLowerCase()))))) {
      process.stderr.write(`engine: building ${model.name} and its variants\n`);
      const variants = await variantModels(model.build());
      for (const threads of threadCounts) {
        kernels.setNumThreads(threads);
        const ortFloatMs = new Map<number, number>();
        for (const variant of VARIANTS) {
          const bytes = variants[variant];
          const [ort, ortLoadMs] = await timedLoad(() => new OrtEngine().load(bytes, { threads }));
          // A copy: every load packs afresh instead of sharing the weights of an earlier session.
          const [native, nativeLoadMs] = await timedLoad(() => new NativeEngine().load(bytes.slice(), { threads }));
          if (threads === threadCounts[threadCounts.length - 1]) loads.push({ model: model.name, variant, ortLoadMs, nativeLoadMs });
          try {
            for (const batch of model.batches) {
              const feeds = model.feeds(batch);
              const runs = Number(runsFlag ?? (batch === model.batches[model.batches.length - 1] ? model.runs : model.runs * 2));
              const { ortMs, nativeMs, cosine, kernels: used } = await timeEngines(ort, native, feeds, runs, 8);
              if (variant === 'dense') ortFloatMs.set(batch, ortMs);
              const report = native.report;
              const row: Row = {
                model: model.name, variant, batch, threads, ortMs, nativeMs,
                speedup: ortMs / nativeMs, speedupVsOrtFloat: (ortFloatMs.get(batch) ?? ortMs) / nativeMs,
                cosine, kernels: used, arenaBytes: report.peakArenaBytes, packedWeightBytes: report.packedWeightBytes,
              };
              rows.push(row);
              process.stderr.write(`engine: ${model.name} ${variant} b${batch} t${threads}: native ${nativeMs.toFixed(3)} ms, `
                + `ORT ${ortMs.toFixed(3)} ms (${row.speedup.toFixed(2)}x), cos ${cosine.toFixed(6)}\n`);
            }
          } finally {
            await ort.dispose();
            await native.dispose();
          }
        }
      }
    }
  } finally {
    kernels.setNumThreads(before);
  }
  writeResults(outDir, 'engine', { suite: 'engine', machine, cpu: info, rows, loads }, markdown(rows, loads, machine));
  const last = threadCounts[threadCounts.length - 1];
  const series = [...new Set(rows.map((r) => `batch ${r.batch}`))];
  fs.writeFileSync(path.join(outDir, 'engine.svg'), renderBarChart({
    title: `native engine vs onnxruntime, same file, ${last} thread(s) (${os.cpus()[0]?.model ?? 'cpu'})`,
    unit: 'x onnxruntime (median latency ratio; right of the dashed line = native faster)',
    series,
    reference: 1,
    rows: [...new Set(rows.filter((r) => r.threads === last).map((r) => `${r.model}: ${r.variant}`))].map((label) => ({
      label,
      values: series.map((s) => rows.find((r) => r.threads === last && `${r.model}: ${r.variant}` === label && `batch ${r.batch}` === s)?.speedup ?? null),
    })),
  }));
}
