// npm run bench -- cuda: the CUDA kernels. (1) The int8 GEMM kernels alone (mma.sync and dp4a) on square
// products in TOP/s and as a fraction of the GPU's int8 tensor-core peak. (2) The calls as a user makes them,
// host to host (inputs copied in, outputs out): matmulInteger, linearInt8, matmulSparse and linearSparseInt8
// on GPU weights against the same calls on CPU weights and onnxruntime-node (CUDA execution provider when
// installed, else CPU) on the same data, with the GPU results checked against the CPU's. Without a GPU it
// writes the reason and returns. Flags: --quick, --runs=N (most timed runs per variant), --out=DIR.
import * as ort from 'onnxruntime-node';
import type { CudaDevice } from '../binding';
import { ortCudaSupport } from '../lib/engine/ort-cuda';
import { kernels } from '../lib/kernels';
import { testAddon } from '../test/helpers/test-addon';
import { lcgBytes, lcgFloats as floats, maxRelDiff } from './data';
import { dynamicLinearGraph, matmulGraph, matmulIntegerGraph } from './ort-graphs';
import { machineName, writeResults } from './results';
import { timeInterleaved, type Timing } from './timing';
import { benchFlags } from './flags';

/** Dense int8 tensor-core ops per clock per SM (2 per multiply-add), by compute capability. */
const INT8_OPS_PER_CLOCK_PER_SM: Record<string, number> = {
  '7.5': 2048, '8.0': 4096, '8.6': 2048, '8.7': 2048, '8.9': 2048, '9.0': 8192, '10.0': 16384, '12.0': 2048,
};

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

interface KernelRow { size: number; kernel: 'mma' | 'dp4a'; tops: number; peakFraction: number | null }
interface CallRow {
  call: string; m: number; k: number; n: number; note: string;
  gpu: Timing; cpu: Timing; ort: Timing;
  /** The onnxruntime graph timed on the same data. */
  ortGraph: string;
  /** cpu / gpu and ort / gpu, from the medians. */
  vsCpu: number; vsOrt: number;
  check: string;
}

function peakOps(device: CudaDevice): number | null {
  const perClock = INT8_OPS_PER_CLOCK_PER_SM[device.computeCapability];
  return perClock && device.clockMHz ? perClock * device.multiprocessors * device.clockMHz * 1e6 : null;
}

const ms = (t: Timing) => (t.medianMs < 1 ? t.medianMs.toFixed(3) : t.medianMs.toFixed(2));
const ratio = (r: number) => `${r.toFixed(2)}x`;

function markdown(machine: string, device: CudaDevice, peak: number | null, ortProvider: string, kernelRows: KernelRow[], calls: CallRow[]): string {
  return [
    `# cuda: GPU kernels on ${device.name} (compute capability ${device.computeCapability}, ${device.multiprocessors} SMs, ${device.clockMHz} MHz), host ${machine}`,
    '',
    `## int8 GEMM kernel alone (device-resident operands, CUDA events, best of the runs)`,
    '',
    peak ? `Peak: ${(peak / 1e12).toFixed(0)} dense int8 TOP/s (tensor cores, from the SM count, clock and compute capability).` : 'Peak: unknown for this compute capability.',
    '',
    '| m = k = n | kernel | TOP/s | of int8 tensor-core peak |',
    '| --- | --- | --- | --- |',
    ...kernelRows.map((r) => `| ${r.size} | ${r.kernel} | ${r.tops.toFixed(1)} | ${r.peakFraction === null ? '-' : `${(100 * r.peakFraction).toFixed(1)}%`} |`),
    '',
    `## Calls host to host: GPU weights vs CPU weights (${kernels.getNumThreads()} threads) vs onnxruntime-node (${ortProvider})`,
    '',
    'Medians, every call awaited (our ...Async calls, onnxruntime\'s session.run) after the same warm-up; x = other time / GPU time',
    '(above 1 = the GPU call is faster). GPU times include copying the inputs in and the output out.',
    '',
    '| call | m x k x n | weights | GPU ms | CPU ms | onnxruntime ms (graph) | x CPU | x onnxruntime | GPU vs CPU result |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...calls.map((c) => `| ${c.call} | ${c.m} x ${c.k} x ${c.n} | ${c.note} | ${ms(c.gpu)} | ${ms(c.cpu)} | ${ms(c.ort)} (${c.ortGraph}) | **${ratio(c.vsCpu)}** | ${ratio(c.vsOrt)} | ${c.check} |`),
    '',
  ].join('\n');
}

export async function runCudaBench(args: string[]): Promise<void> {
  const { flag, outDir, quick } = benchFlags(args);
  const maxRuns = Number(flag('runs') ?? 40);
  const info = kernels.cudaInfo();
  if (!info.available) {
    process.stderr.write(`cuda: skipped, CUDA is not available: ${info.reason}\n`);
    const machine = machineName();
    writeResults(outDir, 'cuda', { suite: 'cuda', machine, info }, `# cuda: not measured on ${machine}\n\nCUDA is not available: ${info.reason}\n`);
    return;
  }
  const device = kernels.cudaDevices()[info.device!];
  const peak = peakOps(device);
  const machine = machineName();

  const kernelRows: KernelRow[] = [];
  const [major] = device.computeCapability.split('.').map(Number);
  try {
    for (const kernel of major >= 8 ? (['mma', 'dp4a'] as const) : (['dp4a'] as const)) {
      testAddon()._cudaInternals.setInt8Kernel(kernel);
      for (const size of quick ? [2048, 4096] : [1024, 2048, 4096, 8192]) {
        const ops = testAddon()._cudaInternals.int8OpsPerSecond(size, quick ? 5 : 10);
        kernelRows.push({ size, kernel, tops: ops / 1e12, peakFraction: peak ? ops / peak : null });
        process.stderr.write(`cuda: ${kernel} ${size}^3: ${(ops / 1e12).toFixed(1)} TOP/s\n`);
      }
    }
  } finally {
    testAddon()._cudaInternals.setInt8Kernel('auto');
  }

  const ortProviders = ortCudaSupport().available ? ['cuda', 'cpu'] : ['cpu'];
  const ortProvider = ortCudaSupport().available ? 'CUDA execution provider' : `CPU: ${ortCudaSupport().reason}`;
  const options: ort.InferenceSession.SessionOptions = { executionProviders: ortProviders, graphOptimizationLevel: 'all', logSeverityLevel: 3 };
  const calls: CallRow[] = [];
  const shapes: [number, number, number][] = quick ? [[1, 4096, 4096], [256, 4096, 4096]] : [[1, 4096, 4096], [32, 4096, 4096], [256, 4096, 4096], [1024, 4096, 4096]];
  for (const [m, k, n] of shapes) {
    const b = new Int8Array(lcgBytes(k * n, k + n).buffer);
    const scales = Float32Array.from({ length: n }, (_, j) => 0.002 + 0.001 * (j % 7));
    const a = lcgBytes(m * k, m + k);
    const x = floats(m * k, m * 7 + k);
    const gpu = kernels.packInt8Weights(b, k, n, { scales, device: 'cuda' });
    const cpu = kernels.packInt8Weights(b, k, n, { scales });
    const session = await ort.InferenceSession.create(matmulIntegerGraph(b, k, n), options);
    const feeds = { A: new ort.Tensor('uint8', a, [m, k]) };
    const budget = 2000;
    const [g1, c1, o1] = await timeInterleaved([() => kernels.matmulIntegerAsync(a, m, k, gpu), () => kernels.matmulIntegerAsync(a, m, k, cpu), () => session.run(feeds)], { budgetMs: budget, maxRuns, block: 2 });
    const exact = sameBits(kernels.matmulInteger(a, m, k, gpu), kernels.matmulInteger(a, m, k, cpu));
    calls.push({ call: 'matmulInteger', m, k, n, note: 'dense int8', gpu: g1, cpu: c1, ort: o1, ortGraph: 'MatMulInteger', vsCpu: c1.medianMs / g1.medianMs, vsOrt: o1.medianMs / g1.medianMs, check: exact ? 'identical' : 'DIFFERENT' });
    const linSession = await ort.InferenceSession.create(dynamicLinearGraph(b, k, n, scales), options);
    const linFeeds = { x: new ort.Tensor('float32', x, [m, k]) };
    const [g2, c2, o2] = await timeInterleaved([() => kernels.linearInt8Async(x, m, k, gpu), () => kernels.linearInt8Async(x, m, k, cpu), () => linSession.run(linFeeds)], { budgetMs: budget, maxRuns, block: 2 });
    const same = sameBits(kernels.linearInt8(x, m, k, gpu), kernels.linearInt8(x, m, k, cpu));
    calls.push({ call: 'linearInt8', m, k, n, note: 'dense int8', gpu: g2, cpu: c2, ort: o2, ortGraph: 'DynamicQuantizeLinear + MatMulInteger', vsCpu: c2.medianMs / g2.medianMs, vsOrt: o2.medianMs / g2.medianMs, check: same ? 'identical' : 'DIFFERENT' });
    await session.release();
    await linSession.release();
    gpu.dispose();
    cpu.dispose();

    // Sparse: float32 at 90% (unstructured) against onnxruntime's dense MatMul; int8 at 2:4 and 90%.
    const dense = floats(k * n, 3 * k + n);
    const w90 = kernels.pruneMask(dense, k, n, { sparsity: 0.9 });
    const wf = dense.map((v, i) => (w90[i] ? v : 0));
    const sparseGpu = kernels.packSparse(wf, k, n, { device: 'cuda' });
    const sparseCpu = kernels.packSparse(wf, k, n);
    const dSession = await ort.InferenceSession.create(matmulGraph(wf, k, n), options);
    const dFeeds = { x: new ort.Tensor('float32', x, [m, k]) };
    const [g3, c3, o3] = await timeInterleaved([() => kernels.matmulSparseAsync(x, m, k, sparseGpu), () => kernels.matmulSparseAsync(x, m, k, sparseCpu), () => dSession.run(dFeeds)], { budgetMs: budget, maxRuns, block: 2 });
    const diff = maxRelDiff(kernels.matmulSparse(x, m, k, sparseGpu), kernels.matmulSparse(x, m, k, sparseCpu));
    calls.push({ call: 'matmulSparse', m, k, n, note: 'float32, 90% unstructured', gpu: g3, cpu: c3, ort: o3, ortGraph: 'dense float32 MatMul', vsCpu: c3.medianMs / g3.medianMs, vsOrt: o3.medianMs / g3.medianMs, check: `max rel diff ${diff.toExponential(1)}` });
    for (const pattern of ['2:4', 'unstructured'] as const) {
      const mask = pattern === '2:4' ? kernels.pruneMask(dense, k, n, { pattern: '2:4' }) : w90;
      const w8 = Int8Array.from(b, (v, i) => (mask[i] ? v : 0));
      const opts = { scales, pattern: pattern === '2:4' ? ('2:4' as const) : undefined };
      const g = kernels.packSparse(w8, k, n, { ...opts, device: 'cuda' });
      const c = kernels.packSparse(w8, k, n, opts);
      const [g4, c4] = await timeInterleaved([() => kernels.linearSparseInt8Async(x, m, k, g), () => kernels.linearSparseInt8Async(x, m, k, c)], { budgetMs: budget, maxRuns, block: 2 });
      const identical = sameBits(kernels.linearSparseInt8(x, m, k, g), kernels.linearSparseInt8(x, m, k, c));
      calls.push({ call: 'linearSparseInt8', m, k, n, note: pattern === '2:4' ? 'int8 2:4 (dense tiles)' : 'int8, 90% unstructured', gpu: g4, cpu: c4, ort: o3, ortGraph: 'dense float32 MatMul', vsCpu: c4.medianMs / g4.medianMs, vsOrt: o3.medianMs / g4.medianMs, check: identical ? 'identical' : 'DIFFERENT' });
      g.dispose();
      c.dispose();
    }
    await dSession.release();
    sparseGpu.dispose();
    sparseCpu.dispose();
    process.stderr.write(`cuda: ${m}x${k}x${n} done\n`);
  }

  const result = { suite: 'cuda', machine, info, device, peakTops: peak ? peak / 1e12 : null, ortProvider, kernels: kernelRows, calls };
  writeResults(outDir, 'cuda', result, markdown(machine, device, peak, ortProvider, kernelRows, calls));
}
