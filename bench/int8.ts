// npm run bench -- int8: the native int8 kernels against onnxruntime-node in the same process on the same
// data: matmulInteger vs a one-node MatMulInteger model, and linearInt8 vs onnxruntime's dynamic-quantized
// MatMul subgraph (DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul -> Add, which onnxruntime fuses).
// Weights are initializers on both sides, so both prepack them once. Shapes m x k x n from the issue,
// threads 1 and 2. Flags: --quick (three shapes), --shapes=MxKxN,... , --threads=1,2, --runs=N (most timed
// runs per variant), --out=DIR.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ort from 'onnxruntime-node';
import { kernels } from '../lib/kernels';
import { testAddon } from '../test/helpers/test-addon';
import { GraphBuilder, serializeModel } from '../lib/onnx';
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

/** Deterministic pseudo-random bytes (LCG). */
function bytes(count: number, seed: number): Uint8Array {
  let s = seed >>> 0;
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

function floats(count: number, seed: number): Float32Array {
  const b = bytes(count, seed);
  return Float32Array.from(b, (v) => (v - 127.5) / 64);
}

const sessionOptions = (threads: number): ort.InferenceSession.SessionOptions => ({
  intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionProviders: ['cpu'],
});

/** One MatMulInteger node: A uint8 [m, k] (input), B int8 [k, n] and a_zero_point as initializers. */
function matmulIntegerModel(b: Int8Array, k: number, n: number): Uint8Array {
  const g = new GraphBuilder('matmul_integer');
  g.input('A', 'uint8', ['m', k]);
  g.initializer('B', b, [k, n], 'int8');
  g.initializer('a_zero_point', Uint8Array.of(A_ZERO_POINT), [], 'uint8');
  g.node('MatMulInteger', ['A', 'B', 'a_zero_point'], ['Y']);
  g.output('Y', 'int32', ['m', n]);
  return serializeModel(g.build({ opset: 21 }));
}

/** The dynamic-quantized Linear layer as onnxruntime's quantizer writes it (per-column weight scales). */
function dynamicLinearModel(b: Int8Array, k: number, n: number, scales: Float32Array, bias: Float32Array): Uint8Array {
  const g = new GraphBuilder('dynamic_linear');
  g.input('x', 'float32', ['m', k]);
  g.initializer('W', b, [k, n], 'int8');
  g.initializer('W_scale', scales, [n], 'float32');
  g.initializer('bias', bias, [n], 'float32');
  g.node('DynamicQuantizeLinear', ['x'], ['x_q', 'x_scale', 'x_zero_point']);
  g.node('MatMulInteger', ['x_q', 'W', 'x_zero_point'], ['y_int']);
  g.node('Cast', ['y_int'], ['y_cast'], { to: 1 });
  g.node('Mul', ['x_scale', 'W_scale'], ['y_scale']);
  g.node('Mul', ['y_cast', 'y_scale'], ['y_unbiased']);
  g.node('Add', ['y_unbiased', 'bias'], ['y']);
  g.output('y', 'float32', ['m', n]);
  return serializeModel(g.build({ opset: 21 }));
}




function measured(ours: Timing, ortTiming: Timing, ops: number, peakOps: number): Measured {
  const gops = ops / (ours.medianMs * 1e6);
  return {
    ours, ort: ortTiming, ratio: ortTiming.medianMs / ours.medianMs, bestRatio: ortTiming.minMs / ours.minMs, gops,
    ortGops: ops / (ortTiming.medianMs * 1e6), peakFraction: (gops * 1e9) / peakOps,
  };
}

function maxRelDiff(got: Float32Array, want: Float32Array): number {
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]));
    worst = Math.max(worst, Math.abs(got[i] - want[i]));
  }
  return scale > 0 ? worst / scale : worst;
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
    'Medians of runs in alternating blocks (see timeInterleaved), same process, same data, same thread count. x ORT = onnxruntime time / ours',
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
    `onnxruntime is timed as a user calls it (await session.run); its fixed cost per run, measured on a 1 x 1 x 1 ` +
      `MatMulInteger, was ${ortOverheadMs.toFixed(3)} ms. Ours are timed through their synchronous calls.`,
    below.length ? `Below 1.0x: ${below.join('; ')}.` : 'No shape is below 1.0x.',
    '',
  ].join('\n');
}

export async function runInt8Bench(args: string[]): Promise<void> {
  const { flag, outDir, quick } = benchFlags(args);
  const maxRuns = Number(flag('runs') ?? 60);
  const loadBefore = os.loadavg()[0];
  const info = kernels.cpuInfo();
  const machine = `${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} logical cores, ${info.isa}`;
  const before = kernels.getNumThreads();
  const internals = testAddon()._int8Internals;
  const peakOps = internals.peakOpsPerSecond(0.5);
  process.stderr.write(`int8: peak of the ${internals.isa()} instruction: ${(peakOps / 1e9).toFixed(1)} GOP/s per thread\n`);

  const tiny = await ort.InferenceSession.create(matmulIntegerModel(Int8Array.of(1), 1, 1), sessionOptions(1));
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
        const mmSession = await ort.InferenceSession.create(matmulIntegerModel(b, k, n), sessionOptions(threads));
        const linSession = await ort.InferenceSession.create(dynamicLinearModel(b, k, n, scales, bias), sessionOptions(threads));
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
          () => kernels.matmulInteger(a, m, k, w, A_ZERO_POINT),
          () => mmSession.run(mmFeeds),
          () => kernels.linearInt8(xs, m, k, w, bias),
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
  fs.mkdirSync(outDir, { recursive: true });
  const load = `${loadBefore.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end on ${os.cpus().length} logical cores`;
  const result = {
    suite: 'int8', machine, cpu: info, load, peakGopsPerThread: peakOps / 1e9, ortOverheadMs: ortOverhead.medianMs, cases,
  };
  fs.writeFileSync(path.join(outDir, 'int8.json'), JSON.stringify(result, null, 2) + '\n');
  const table = markdown(cases, machine, peakOps / 1e9, ortOverhead.medianMs, load);
  fs.writeFileSync(path.join(outDir, 'int8.md'), table);
  process.stdout.write(table);
}
