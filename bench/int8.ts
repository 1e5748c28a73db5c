// npm run bench -- int8: the native int8 kernels against onnxruntime-node in the same process on the same
// data: matmulInteger vs a one-node MatMulInteger model, and linearInt8 vs onnxruntime's dynamic-quantized
// MatMul subgraph (DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul -> Add, which onnxruntime fuses).
// Weights are initializers on both sides, so both prepack them once. Shapes m x k x n from the issue,
// threads 1 and 2. Flags: --quick (three shapes), --shapes=MxKxN,... , --threads=1,2, --runs=N (most timed
// runs per variant), --out=DIR.
import * as os from 'os';
import * as ort from 'onnxruntime-node';
import { kernels } from '../lib/kernels';
import { testAddon } from '../test/helpers/test-addon';
import { lcgBytes as bytes, lcgFloats as floats, maxRelDiff } from './data';
import { dynamicLinearGraph, kernelSessionOptions, matmulIntegerGraph } from './ort-graphs';
import { machineName, writeResults } from './results';
import { timeInterleaved, type Timing } from './timing';
import { benchFlags } from './flags';

// Blocks of 3 runs, each after a pause and an untimed run (see InterleaveOptions.pauseMs).
const pausedBlocks = (budgetMs: number, maxRuns: number) => ({ budgetMs, maxRuns, block: 3, warmup: 0, pauseMs: 5 });

const SHAPES: [number, number, number][] = [
  [1, 4096, 4096], [8, 4096, 4096], [32, 4096, 4096], [128, 768, 3072],
  [512, 1024, 1024], [1024, 1024, 1024], [1, 768, 768],
];
const QUICK_SHAPES: [number, number, number][] = [[1, 4096, 4096], [128, 768, 3072], [1, 768, 768]];
const A_ZERO_POINT = 128;

interface Measured {
  ours: Timing; ort: Timing;
  /** ort / ours, from the medians; bestRatio from the fastest runs. */
  ratio: number; bestRatio: number;
  gops: number; ortGops: number; peakFraction: number;
}
interface Case {
  m: number; k: number; n: number; threads: number;
  matmulInteger: Measured & { exact: boolean };
  linearInt8: Measured & { maxRelDiff: number };
}


function measured(ours: Timing, ortTiming: Timing, ops: number, peakOps: number): Measured {
  const gops = ops / (ours.medianMs * 1e6);
  return {
    ours, ort: ortTiming, ratio: ortTiming.medianMs / ours.medianMs, bestRatio: ortTiming.minMs / ours.minMs, gops,
    ortGops: ops / (ortTiming.medianMs * 1e6), peakFraction: (gops * 1e9) / peakOps,
  };
}

const ms = (t: Timing) => (t.medianMs < 1 ? t.medianMs.toFixed(3) : t.medianMs.toFixed(2));
const x = (ratio: number) => `${ratio.toFixed(2)}x`;

function markdown(cases: Case[], machine: string, peakGops: number, ortOverheadMs: number, load: string): string {
  const row = (c: Case, r: Measured) =>
    `| ${c.m} x ${c.k} x ${c.n} | ${c.threads} | ${ms(r.ours)} | ${ms(r.ort)} | **${x(r.ratio)}** | ${x(r.bestRatio)} | `
    + `${r.gops.toFixed(1)} | ${r.ortGops.toFixed(1)} | ${(100 * r.peakFraction).toFixed(0)}% |`;
  const header = [
    '| m x k x n | threads | ours ms | onnxruntime ms | x ORT | x ORT (fastest runs) | ours GOP/s | ORT GOP/s | ours, of peak |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const below = cases.flatMap((c) => [
    ...(c.matmulInteger.ratio < 1 ? [`matmulInteger ${c.m}x${c.k}x${c.n} t=${c.threads}: ${x(c.matmulInteger.ratio)}`] : []),
    ...(c.linearInt8.ratio < 1 ? [`linearInt8 ${c.m}x${c.k}x${c.n} t=${c.threads}: ${x(c.linearInt8.ratio)}`] : []),
  ]);
  return [
    `# int8: native kernels vs onnxruntime-node (${machine})`,
    '',
    'Medians of runs in alternating blocks (see timeInterleaved), same process, same data, same thread count, both sides awaited as a',
    'user calls them (our ...Async calls, onnxruntime\'s session.run), after the same warm-up. x ORT = onnxruntime time / ours',
    `(above 1 = we are faster). GOP/s counts 2 ops per multiply-add; "of peak" is against the measured peak of the ISA's`,
    `int8 instruction, ${peakGops.toFixed(0)} GOP/s per thread, times the thread count. Load average during the run: ${load}`,
    '(other work on a shared machine disturbs the medians; the fastest runs of each engine are disturbed least).',
    '',
    '## matmulInteger vs MatMulInteger (uint8 A with zero point 128, int8 B)',
    '',
    ...header,
    ...cases.map((c) => row(c, c.matmulInteger)),
    '',
    '## linearInt8 vs DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul -> Add (per-column weight scales, bias)',
    '',
    ...header,
    ...cases.map((c) => row(c, c.linearInt8)),
    '',
    `matmulInteger's int32 results equal onnxruntime's exactly in every case: ${cases.every((c) => c.matmulInteger.exact)}.`,
    `linearInt8 quantizes x per row, onnxruntime per tensor; largest difference: ` +
      `${Math.max(...cases.map((c) => c.linearInt8.maxRelDiff)).toExponential(2)} of the output's largest magnitude.`,
    `onnxruntime's fixed cost per run, measured on a 1 x 1 x 1 MatMulInteger, was ${ortOverheadMs.toFixed(3)} ms.`,
    below.length ? `Below 1.0x: ${below.join('; ')}.` : 'No shape is below 1.0x.',
    '',
  ].join('\n');
}

export async function runInt8Bench(args: string[]): Promise<void> {
  const { flag, outDir, quick } = benchFlags(args);
  const maxRuns = Number(flag('runs') ?? 60);
  const loadBefore = os.loadavg()[0];
  const info = kernels.cpuInfo();
  const machine = machineName();
  const before = kernels.getNumThreads();
  const internals = testAddon()._int8Internals;
  const peakOps = internals.peakOpsPerSecond(0.5);
  process.stderr.write(`int8: peak of the ${internals.isa()} instruction: ${(peakOps / 1e9).toFixed(1)} GOP/s per thread\n`);

  const tiny = await ort.InferenceSession.create(matmulIntegerGraph(Int8Array.of(1), 1, 1, A_ZERO_POINT), kernelSessionOptions(1));
  const tinyFeeds = { A: new ort.Tensor('uint8', Uint8Array.of(1), [1, 1]) };
  const [ortOverhead] = await timeInterleaved([() => tiny.run(tinyFeeds)], pausedBlocks(300, 300));
  await tiny.release();

  const cases: Case[] = [];
  try {
    const shapes = flag('shapes')?.split(',').map((s) => s.split('x').map(Number) as [number, number, number])
      ?? (quick ? QUICK_SHAPES : SHAPES);
    const threadCounts = flag('threads')?.split(',').map(Number) ?? [1, 2];
    for (const [m, k, n] of shapes) {
      const b = new Int8Array(bytes(k * n, k * 31 + n).buffer);
      const scales = Float32Array.from({ length: n }, (_, j) => 0.002 + 0.001 * (j % 7));
      const bias = floats(n, n);
      const a = bytes(m * k, m + k);
      const xs = floats(m * k, m * 7 + k);
      const w = kernels.packInt8Weights(b, k, n, { scales });
      const ops = 2 * m * k * n;
      for (const threads of threadCounts) {
        kernels.setNumThreads(threads);
        const mmSession = await ort.InferenceSession.create(matmulIntegerGraph(b, k, n, A_ZERO_POINT), kernelSessionOptions(threads));
        const linSession = await ort.InferenceSession.create(dynamicLinearGraph(b, k, n, scales, bias), kernelSessionOptions(threads));
        const mmFeeds = { A: new ort.Tensor('uint8', a, [m, k]) };
        const linFeeds = { x: new ort.Tensor('float32', xs, [m, k]) };
        const ortY = (await mmSession.run(mmFeeds)).Y.data as Int32Array;
        const ours = kernels.matmulInteger(a, m, k, w, A_ZERO_POINT);
        const exact = ortY.length === ours.length && ortY.every((v, i) => v === ours[i]);
        const ortLinear = (await linSession.run(linFeeds)).y.data as Float32Array;
        const diff = maxRelDiff(kernels.linearInt8(xs, m, k, w, bias), ortLinear);
        // Fewer runs where one run is long: the suite stays within a few minutes.
        const budget = ops > 4e9 ? 3000 : 1500;
        const [oursMm, ortMm, oursLin, ortLin] = await timeInterleaved([
          () => kernels.matmulIntegerAsync(a, m, k, w, A_ZERO_POINT),
          () => mmSession.run(mmFeeds),
          () => kernels.linearInt8Async(xs, m, k, w, bias),
          () => linSession.run(linFeeds),
        ], pausedBlocks(budget, maxRuns));
        const c: Case = {
          m, k, n, threads,
          matmulInteger: { ...measured(oursMm, ortMm, ops, peakOps * threads), exact },
          linearInt8: { ...measured(oursLin, ortLin, ops, peakOps * threads), maxRelDiff: diff },
        };
        cases.push(c);
        process.stderr.write(`int8: ${m}x${k}x${n} t=${threads}: matmulInteger ${ms(oursMm)} vs ${ms(ortMm)} ms `
          + `(${x(c.matmulInteger.ratio)}${exact ? '' : ', NOT EXACT'}), linearInt8 ${ms(oursLin)} vs ${ms(ortLin)} ms `
          + `(${x(c.linearInt8.ratio)})\n`);
        await mmSession.release();
        await linSession.release();
      }
      w.dispose();
    }
  } finally {
    kernels.setNumThreads(before);
  }
  const load = `${loadBefore.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end on ${os.cpus().length} logical cores`;
  const result = {
    suite: 'int8', machine, cpu: info, load, peakGopsPerThread: peakOps / 1e9, ortOverheadMs: ortOverhead.medianMs, cases,
  };
  writeResults(outDir, 'int8', result, markdown(cases, machine, peakOps / 1e9, ortOverhead.medianMs, load));
}
