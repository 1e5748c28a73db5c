// npm run bench -- sparse: the native sparse kernels on pruned weights against onnxruntime-node's dense
// float32 MatMul on the same (zero-filled) weights, and against our dense int8 (linearInt8), in the same
// run on the same data. k x n = 4096 x 4096 and 768 x 3072, m = 1, 8, 32, 128, unstructured sparsity
// 50-95% and 2:4, threads 1 and 2. Flags: --quick (fewer cases), --runs=N, --out=DIR.
import * as ort from 'onnxruntime-node';
import type { PackedInt8, PackedSparse, PruneMaskOptions } from '../binding';
import { kernels } from '../lib/kernels';
import { maxRelDiff } from './data';
import { matmulGraph } from './ort-graphs';
import { machineName, writeResults } from './results';
import { timeInterleaved, type Timing } from './timing';
import { benchFlags } from './flags';

const SHAPES: [number, number][] = [[4096, 4096], [768, 3072]];
const ROWS = [1, 8, 32, 128];
const PATTERNS: { label: string; mask: PruneMaskOptions }[] = [
  ...[0.5, 0.7, 0.8, 0.9, 0.95].map((sparsity) => ({ label: `${sparsity * 100}%`, mask: { sparsity } })),
  { label: '2:4', mask: { pattern: '2:4' } },
];

interface Case {
  k: number; n: number; m: number; threads: number; pattern: string; sparsity: number;
  ortDense: Timing; sparseFloat: Timing; denseInt8: Timing; sparseInt8: Timing;
  /** ortDense / sparseFloat medians: how many times faster than onnxruntime's dense float32. */
  speedupVsOrt: number;
  /** denseInt8 / sparseInt8. */
  speedupVsInt8: number;
  maxRelError: number;
}

/** A deterministic N(0, 1)-ish matrix (sum of uniforms), so magnitudes vary like trained weights. */
function weights(count: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = next() + next() + next() - 1.5;
  return out;
}

/** Per-column symmetric int8 quantization of W (what a weight-quantized, pruned layer holds). */
function quantizeColumns(w: Float32Array, k: number, n: number): { q: Int8Array; scales: Float32Array } {
  const scales = new Float32Array(n);
  for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) scales[j] = Math.max(scales[j], Math.abs(w[i * n + j]));
  for (let j = 0; j < n; j++) scales[j] = scales[j] > 0 ? scales[j] / 127 : 1;
  const q = new Int8Array(k * n);
  for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) q[i * n + j] = Math.round(w[i * n + j] / scales[j]);
  return { q, scales };
}

function ms(t: Timing): string {
  return t.medianMs < 1 ? t.medianMs.toFixed(3) : t.medianMs.toFixed(2);
}

function ortMatmul(w: Float32Array, k: number, n: number, threads: number): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(matmulGraph(w, k, n), {
    intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionProviders: ['cpu'],
  });
}

function markdown(cases: Case[], machine: string, ortOverheadMs: number): string {
  const worstError = Math.max(...cases.map((c) => c.maxRelError));
  const lines = [
    `# sparse: native sparse matmul vs onnxruntime-node dense float32 (${machine})`,
    '',
    'Speed-up of matmulSparse over onnxruntime-node\'s dense MatMul on the same zero-filled weights (x = times faster,',
    'from the medians of interleaved runs, both sides awaited as a user calls them, after the same warm-up);',
    'crossover: the lowest sparsity measured at which sparse float32 is faster.',
    '',
    `| k x n | m | threads | ${PATTERNS.map((p) => p.label).join(' | ')} | crossover |`,
    `| --- | --- | --- | ${PATTERNS.map(() => '---').join(' | ')} | --- |`,
  ];
  const groups = new Map<string, Case[]>();
  for (const c of cases) {
    const key = `${c.k} x ${c.n} | ${c.m} | ${c.threads}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  for (const [key, group] of groups) {
    const unstructured = group.filter((c) => c.pattern !== '2:4').sort((a, b) => a.sparsity - b.sparsity);
    const crossover = unstructured.find((c) => c.speedupVsOrt > 1);
    const cells = PATTERNS.map((p) => group.find((c) => c.pattern === p.label)).map((c) => (c ? `${c.speedupVsOrt.toFixed(2)}x` : '-'));
    lines.push(`| ${key} | ${cells.join(' | ')} | ${crossover ? `${crossover.pattern}` : `> ${unstructured.at(-1)?.pattern ?? '-'}`} |`);
  }
  lines.push(
    '',
    'Median ms (fastest runs in sparse.json). sparse int8 = linearSparseInt8 (dynamic per-row activation quantization), dense int8 = linearInt8 on the same int8 weights.',
    '',
    '| k x n | m | threads | pattern | ORT dense f32 | sparse f32 | x ORT | dense int8 | sparse int8 | x dense int8 |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...cases.map((c) => `| ${c.k} x ${c.n} | ${c.m} | ${c.threads} | ${c.pattern} | ${ms(c.ortDense)} | ${ms(c.sparseFloat)} | `
      + `${c.speedupVsOrt.toFixed(2)}x | ${ms(c.denseInt8)} | ${ms(c.sparseInt8)} | ${c.speedupVsInt8.toFixed(2)}x |`),
    '',
    `Our kernels are timed through their ...Async calls and onnxruntime-node through session.run, all awaited; onnxruntime's fixed cost `
      + `per run, measured on a 1 x 1 MatMul, was ${ortOverheadMs.toFixed(3)} ms.`,
    `Largest difference of matmulSparse from onnxruntime's output: ${worstError.toExponential(2)} of the output's largest magnitude.`,
    '',
  );
  return lines.join('\n');
}

export async function runSparseBench(args: string[]): Promise<void> {
  const { flag, outDir, quick } = benchFlags(args);
  const maxRuns = Number(flag('runs') ?? 25);
  const info = kernels.cpuInfo();
  const machine = machineName();
  const threadCounts = quick ? [1] : [1, 2];
  const shapes = quick ? SHAPES.slice(1) : SHAPES;
  const cases: Case[] = [];
  const before = kernels.getNumThreads();

  const tiny = await ortMatmul(Float32Array.of(1), 1, 1, 1);
  const tinyFeeds = { x: new ort.Tensor('float32', Float32Array.of(1), [1, 1]) };
  const [ortOverhead] = await timeInterleaved([() => tiny.run(tinyFeeds)], { budgetMs: 200, maxRuns: 200, warmup: 2 });
  await tiny.release();

  try {
    for (const [k, n] of shapes) {
      const dense = weights(k * n, k + n);
      for (const pattern of PATTERNS) {
        const mask = kernels.pruneMask(dense, k, n, pattern.mask);
        const w = dense.map((v, i) => (mask[i] ? v : 0));
        const { q, scales } = quantizeColumns(w, k, n);
        const sparseFloat: PackedSparse = kernels.packSparse(w, k, n, { pattern: pattern.label === '2:4' ? '2:4' : 'unstructured' });
        const sparseInt8: PackedSparse = kernels.packSparse(q, k, n, { scales });
        const denseInt8: PackedInt8 = kernels.packInt8Weights(q, k, n, { scales });
        for (const threads of threadCounts) {
          kernels.setNumThreads(threads);
          const session = await ortMatmul(w, k, n, threads);
          for (const m of ROWS) {
            const x = weights(m * k, m);
            const feeds = { x: new ort.Tensor('float32', x, [m, k]) };
            const want = (await session.run(feeds)).y.data as Float32Array;
            const error = maxRelDiff(kernels.matmulSparse(x, m, k, sparseFloat), want);
            // Fewer runs where one run is long: the suite stays within a few minutes.
            const budget = k * n * m > 1e9 ? 400 : 250;
            const [ortDense, sparseF, denseI, sparseI] = await timeInterleaved([
              () => session.run(feeds),
              () => kernels.matmulSparseAsync(x, m, k, sparseFloat),
              () => kernels.linearInt8Async(x, m, k, denseInt8),
              () => kernels.linearSparseInt8Async(x, m, k, sparseInt8),
            ], { budgetMs: budget, maxRuns, warmup: 2 });
            const c: Case = {
              k, n, m, threads, pattern: pattern.label, sparsity: sparseFloat.sparsity,
              ortDense, sparseFloat: sparseF, denseInt8: denseI, sparseInt8: sparseI,
              speedupVsOrt: ortDense.medianMs / sparseF.medianMs,
              speedupVsInt8: denseI.medianMs / sparseI.medianMs,
              maxRelError: error,
            };
            cases.push(c);
            process.stderr.write(`sparse: ${k}x${n} ${pattern.label} m=${m} t=${threads}: ORT ${ms(ortDense)} ms, `
              + `sparse ${ms(sparseF)} ms (${c.speedupVsOrt.toFixed(2)}x), int8 ${ms(denseI)} -> ${ms(sparseI)} ms\n`);
          }
          await session.release();
        }
        sparseFloat.dispose();
        sparseInt8.dispose();
        denseInt8.dispose();
      }
    }
  } finally {
    kernels.setNumThreads(before);
  }
  const result = { suite: 'sparse', machine, cpu: info, ortOverheadMs: ortOverhead.medianMs, cases };
  writeResults(outDir, 'sparse', result, markdown(cases, machine, ortOverhead.medianMs));
}
