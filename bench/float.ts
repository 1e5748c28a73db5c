// npm run bench -- float: the dense float32 GEMM against onnxruntime-node (MLAS) in the same process on the same
// data: linearFloat vs a one-node MatMul model (B k x n), and linearFloat with bias on weights packed from B^T vs a
// one-node Gemm (transB = 1, bias C). Weights are initializers on both sides, so both prepack them once. Shapes
// m x k x n, threads 1 and 2 on both sides. Flags: --quick (three shapes), --shapes=MxKxN,... , --threads=1,2,
// --runs=N (most timed runs per variant), --out=DIR.
import * as os from 'os';
import * as ort from 'onnxruntime-node';
import { kernels } from '../lib/kernels';
import { testAddon } from '../test/helpers/test-addon';
import { lcgFloats, maxRelDiff } from './data';
import { gemmGraph, kernelSessionOptions, matmulGraph } from './ort-graphs';
import { machineName, writeResults } from './results';
import { timeInterleaved, type Timing } from './timing';
import { benchFlags } from './flags';

// Blocks of 3 runs, each after a pause and an untimed run (see InterleaveOptions.pauseMs). onnxruntime's
// intra-op threads keep spinning for about 20 ms after a run (measured with process.cpuUsage while idle): a
// shorter pause would time our two-thread runs while its spinning thread still holds the second core.
const pausedBlocks = (budgetMs: number, maxRuns: number) => ({ budgetMs, maxRuns, block: 3, warmup: 0, pauseMs: 40 });

const SHAPES: [number, number, number][] = [
  [1, 784, 1024], [64, 784, 1024], [1, 1024, 1024], [128, 768, 768],
  [128, 768, 3072], [128, 3072, 768], [1024, 768, 768], [8, 4096, 4096],
];
const QUICK_SHAPES: [number, number, number][] = [[1, 784, 1024], [128, 768, 3072], [8, 4096, 4096]];

interface Measured {
  ours: Timing; ort: Timing;
  /** ort / ours, from the medians; bestRatio from the fastest runs. */
  ratio: number; bestRatio: number;
  gflops: number; ortGflops: number;
  /** Of the measured FMA peak times the thread count, ours and onnxruntime's. */
  peakFraction: number; ortPeakFraction: number;
  /** Largest |ours - onnxruntime| over the output's largest magnitude. */
  maxRelDiff: number;
}
interface Case { m: number; k: number; n: number; threads: number; matmul: Measured; gemm: Measured }


function transpose(b: Float32Array, k: number, n: number): Float32Array {
  const out = new Float32Array(k * n);
  for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) out[j * k + i] = b[i * n + j];
  return out;
}





function measured(ours: Timing, ortTiming: Timing, flops: number, peak: number, diff: number): Measured {
  const gflops = flops / (ours.medianMs * 1e6);
  const ortGflops = flops / (ortTiming.medianMs * 1e6);
  return {
    ours, ort: ortTiming, ratio: ortTiming.medianMs / ours.medianMs, bestRatio: ortTiming.minMs / ours.minMs,
    gflops, ortGflops, peakFraction: (gflops * 1e9) / peak, ortPeakFraction: (ortGflops * 1e9) / peak, maxRelDiff: diff,
  };
}

const ms = (t: Timing) => (t.medianMs < 1 ? t.medianMs.toFixed(3) : t.medianMs.toFixed(2));
const x = (ratio: number) => `${ratio.toFixed(2)}x`;
const pct = (f: number) => `${(100 * f).toFixed(0)}%`;

function markdown(cases: Case[], machine: string, features: string, peakGflops: number, ortOverheadMs: number, load: string): string {
  const row = (c: Case, r: Measured) =>
    `| ${c.m} x ${c.k} x ${c.n} | ${c.threads} | ${ms(r.ours)} | ${ms(r.ort)} | **${x(r.ratio)}** | ${x(r.bestRatio)} | `
    + `${r.gflops.toFixed(1)} | ${r.ortGflops.toFixed(1)} | ${pct(r.peakFraction)} | ${pct(r.ortPeakFraction)} |`;
  const header = [
    '| m x k x n | threads | ours ms | onnxruntime ms | x ORT | x ORT (fastest runs) | ours GFLOP/s | ORT GFLOP/s | ours, of peak | ORT, of peak |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const below = cases.flatMap((c) => [
    ...(c.matmul.ratio < 1 ? [`MatMul ${c.m}x${c.k}x${c.n} t=${c.threads}: ${x(c.matmul.ratio)}`] : []),
    ...(c.gemm.ratio < 1 ? [`Gemm ${c.m}x${c.k}x${c.n} t=${c.threads}: ${x(c.gemm.ratio)}`] : []),
  ]);
  const worstDiff = Math.max(...cases.flatMap((c) => [c.matmul.maxRelDiff, c.gemm.maxRelDiff]));
  return [
    `# float: dense float32 GEMM vs onnxruntime-node (${machine})`,
    '',
    `CPU features: ${features}.`,
    '',
    'Medians of runs in alternating blocks (see timeInterleaved), same process, same data, same thread count on both',
    'sides (setNumThreads, intraOpNumThreads). x ORT = onnxruntime time / ours (above 1 = we are faster). GFLOP/s counts 2',
    `per multiply-add; "of peak" is against the measured FMA peak of the active ISA, ${peakGflops.toFixed(0)} GFLOP/s per thread,`,
    `times the thread count. Load average during the run: ${load}. Other work on the machine, or on the host of a`,
    'virtual machine (which the load average does not show), disturbs the medians, two-thread runs most; the fastest runs',
    'of each engine are disturbed least.',
    '',
    '## linearFloat vs MatMul (B k x n)',
    '',
    ...header,
    ...cases.map((c) => row(c, c.matmul)),
    '',
    '## linearFloat with bias vs Gemm (transB = 1, bias)',
    '',
    ...header,
    ...cases.map((c) => row(c, c.gemm)),
    '',
    `Largest difference from onnxruntime's output: ${worstDiff.toExponential(2)} of the output's largest magnitude.`,
    `onnxruntime is timed as a user calls it (await session.run); its fixed cost per run, measured on a 1 x 1 x 1 ` +
      `MatMul, was ${ortOverheadMs.toFixed(3)} ms. Ours are timed through their synchronous calls.`,
    below.length ? `Below 1.0x: ${below.join('; ')}.` : 'No shape is below 1.0x.',
    '',
  ].join('\n');
}

export async function runFloatBench(args: string[]): Promise<void> {
  const { flag, outDir, quick } = benchFlags(args);
  const maxRuns = Number(flag('runs') ?? 150);
  const loadBefore = os.loadavg()[0];
  const info = kernels.cpuInfo();
  const machine = machineName();
  const features = Object.entries(info.features).filter(([, on]) => on).map(([name]) => name).join(', ');
  const before = kernels.getNumThreads();
  const peak = testAddon()._floatInternals.peakFlopsPerSecond(0.5);
  process.stderr.write(`float: FMA peak of ${testAddon()._floatInternals.isa()}: ${(peak / 1e9).toFixed(1)} GFLOP/s per thread\n`);

  const tiny = await ort.InferenceSession.create(matmulGraph(Float32Array.of(1), 1, 1), kernelSessionOptions(1));
  const tinyFeeds = { x: new ort.Tensor('float32', Float32Array.of(1), [1, 1]) };
  const [ortOverhead] = await timeInterleaved([() => tiny.run(tinyFeeds)], pausedBlocks(300, 300));
  await tiny.release();

  const cases: Case[] = [];
  try {
    const shapes = flag('shapes')?.split(',').map((s) => s.split('x').map(Number) as [number, number, number])
      ?? (quick ? QUICK_SHAPES : SHAPES);
    const threadCounts = flag('threads')?.split(',').map(Number) ?? [1, 2];
    for (const [m, k, n] of shapes) {
      const b = lcgFloats(k * n, k * 31 + n);
      const bT = transpose(b, k, n);
      const bias = lcgFloats(n, n + 7);
      const xs = lcgFloats(m * k, m * 7 + k);
      const w = kernels.packFloatWeights(b, k, n);
      const wT = kernels.packFloatWeights(bT, k, n, { transposed: true });
      const flops = 2 * m * k * n;
      for (const threads of threadCounts) {
        kernels.setNumThreads(threads);
        const mmSession = await ort.InferenceSession.create(matmulGraph(b, k, n), kernelSessionOptions(threads));
        const gemmSession = await ort.InferenceSession.create(gemmGraph(bT, bias, k, n), kernelSessionOptions(threads));
        const feeds = { x: new ort.Tensor('float32', xs, [m, k]) };
        const mmDiff = maxRelDiff(kernels.linearFloat(xs, m, k, w), (await mmSession.run(feeds)).y.data as Float32Array);
        const gemmDiff = maxRelDiff(kernels.linearFloat(xs, m, k, wT, bias), (await gemmSession.run(feeds)).y.data as Float32Array);
        // Fewer runs where one run is long: the suite stays within a few minutes.
        const budget = flops > 4e9 ? 4000 : 2500;
        const [oursMm, ortMm, oursGemm, ortGemm] = await timeInterleaved([
          () => kernels.linearFloat(xs, m, k, w),
          () => mmSession.run(feeds),
          () => kernels.linearFloat(xs, m, k, wT, bias),
          () => gemmSession.run(feeds),
        ], pausedBlocks(budget, maxRuns));
        const c: Case = {
          m, k, n, threads,
          matmul: measured(oursMm, ortMm, flops, peak * threads, mmDiff),
          gemm: measured(oursGemm, ortGemm, flops, peak * threads, gemmDiff),
        };
        cases.push(c);
        process.stderr.write(`float: ${m}x${k}x${n} t=${threads}: MatMul ${ms(oursMm)} vs ${ms(ortMm)} ms (${x(c.matmul.ratio)}), `
          + `Gemm ${ms(oursGemm)} vs ${ms(ortGemm)} ms (${x(c.gemm.ratio)}), ${pct(c.matmul.peakFraction)} of peak\n`);
        await mmSession.release();
        await gemmSession.release();
      }
      w.dispose();
      wT.dispose();
    }
  } finally {
    kernels.setNumThreads(before);
  }
  const load = `${loadBefore.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end on ${os.cpus().length} logical cores`;
  const result = {
    suite: 'float', machine, cpu: info, load, peakGflopsPerThread: peak / 1e9, ortOverheadMs: ortOverhead.medianMs, cases,
  };
  writeResults(outDir, 'float', result, markdown(cases, machine, features, peak / 1e9, ortOverhead.medianMs, load));
}
