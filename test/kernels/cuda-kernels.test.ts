// The CUDA kernels against the CPU kernels on the same data, on a GPU only: matmulInteger
// and linearInt8 bit-identical (both int8 GEMM kernels, mma and dp4a), linearSparseInt8
// bit-identical, matmulSparse within float rounding. Without a GPU the suite is reported as
// skipped, with the reason. It runs on the test addon, whose hooks force each int8 GEMM kernel.
import type { PackedSparse } from '../../binding';
import { testAddon } from '../helpers/test-addon';
import { linearCases, matmulCases } from './int8-cases';
import { randomFloats, randomInts, rng } from './int8-reference';
import { sparseCases } from './sparse-cases';
import { describeWhen } from '../helpers/skip';

const kernels = testAddon();

const info = kernels.cudaInfo();
const gpuAbsent = info.available ? undefined : `no usable GPU: ${info.reason}`;

/** The int8 GEMM kernels this GPU runs: dp4a everywhere, mma.sync from sm_80. */
function int8Kernels(): ('mma' | 'dp4a')[] {
  const [major] = kernels.cudaDevices()[info.device!].computeCapability.split('.').map(Number);
  return major >= 8 ? ['mma', 'dp4a'] : ['dp4a'];
}

function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): string {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return `at ${i}: ${a[i]} vs ${b[i]}`;
  return a.length === b.length ? 'none' : `lengths ${a.length} vs ${b.length}`;
}

describeWhen(gpuAbsent, 'CUDA kernels against the CPU kernels', () => {
  afterAll(() => kernels._cudaInternals.setInt8Kernel('auto'));

  describe.each(int8Kernels())('int8 GEMM kernel %s', (kernel) => {
    beforeAll(() => kernels._cudaInternals.setInt8Kernel(kernel));

    test('matmulInteger equals the CPU exactly (zero points, signs, awkward shapes)', async () => {
      for (const c of matmulCases()) {
        const opts = { zeroPoints: c.zeroPoints };
        const cpu = kernels.packInt8Weights(c.b, c.k, c.n, opts);
        const gpu = kernels.packInt8Weights(c.b, c.k, c.n, { ...opts, device: 'cuda' });
        expect(gpu.device).toBe('cuda');
        const want = kernels.matmulInteger(c.a, c.m, c.k, cpu, c.aZeroPoint);
        const got = kernels.matmulInteger(c.a, c.m, c.k, gpu, c.aZeroPoint);
        if (firstDifference(got, want) !== 'none') throw new Error(`${c.label}: ${firstDifference(got, want)}`);
        if (c.async) expect(await kernels.matmulIntegerAsync(c.a, c.m, c.k, gpu, c.aZeroPoint)).toEqual(want);
        gpu.dispose();
      }
    });

    test('linearInt8 equals the CPU bit for bit (same quantized rows, same epilogue)', async () => {
      for (const c of linearCases()) {
        const opts = { scales: c.scales, zeroPoints: c.zeroPoints };
        const cpu = kernels.packInt8Weights(c.b, c.k, c.n, opts);
        const gpu = kernels.packInt8Weights(c.b, c.k, c.n, { ...opts, device: 'cuda' });
        const want = kernels.linearInt8(c.x, c.m, c.k, cpu, c.bias);
        const got = kernels.linearInt8(c.x, c.m, c.k, gpu, c.bias);
        if (firstDifference(got, want) !== 'none') throw new Error(`${c.label}: ${firstDifference(got, want)}`);
        if (c.async) expect(await kernels.linearInt8Async(c.x, c.m, c.k, gpu, c.bias)).toEqual(want);
      }
    });

    test('a product large enough for many tiles', () => {
      const rand = rng(5);
      const [m, k, n] = [300, 1000, 520];
      const b = randomInts(Int8Array, k * n, -128, 127, rand);
      const a = randomInts(Int8Array, m * k, -128, 127, rand);
      const zeroPoints = randomInts(Int8Array, n, -128, 127, rand);
      const cpu = kernels.packInt8Weights(b, k, n, { zeroPoints });
      const gpu = kernels.packInt8Weights(b, k, n, { zeroPoints, device: 'cuda' });
      expect(kernels.matmulInteger(a, m, k, gpu, -3)).toEqual(kernels.matmulInteger(a, m, k, cpu, -3));
    });
  });

  describe('sparse', () => {
    const cases = sparseCases();

    test('linearSparseInt8 equals the CPU bit for bit (unstructured CSC and 2:4 dense tiles)', async () => {
      for (const c of cases.filter((c) => c.w instanceof Int8Array)) {
        const opts = { scales: c.scales, pattern: c.pattern };
        const cpu = kernels.packSparse(c.w, c.k, c.n, opts);
        const gpu = kernels.packSparse(c.w, c.k, c.n, { ...opts, device: 'cuda' });
        expect([gpu.device, gpu.nonzeros, gpu.dtype, gpu.pattern]).toEqual(['cuda', cpu.nonzeros, cpu.dtype, cpu.pattern]);
        const want = kernels.linearSparseInt8(c.x, c.m, c.k, cpu, c.bias);
        const got = kernels.linearSparseInt8(c.x, c.m, c.k, gpu, c.bias);
        if (firstDifference(got, want) !== 'none') throw new Error(`${c.label}: ${firstDifference(got, want)}`);
        if (c.async) expect(await kernels.linearSparseInt8Async(c.x, c.m, c.k, gpu, c.bias)).toEqual(want);
      }
    });

    test('matmulSparse matches the CPU within float rounding', async () => {
      for (const c of cases.filter((c) => c.w instanceof Float32Array)) {
        const w = c.w as Float32Array;
        const cpu = kernels.packSparse(w, c.k, c.n, { pattern: c.pattern });
        const gpu: PackedSparse = kernels.packSparse(w, c.k, c.n, { pattern: c.pattern, device: 'cuda' });
        expect([gpu.device, gpu.nonzeros]).toEqual(['cuda', cpu.nonzeros]);
        const want = kernels.matmulSparse(c.x, c.m, c.k, cpu, c.bias);
        const results = [kernels.matmulSparse(c.x, c.m, c.k, gpu, c.bias)];
        if (c.async) results.push(await kernels.matmulSparseAsync(c.x, c.m, c.k, gpu, c.bias));
        // Bound: a few ulps of sum |x| |w| per output (the summation orders differ).
        for (const got of results) {
          for (let i = 0; i < c.m; i++) {
            for (let j = 0; j < c.n; j++) {
              let magnitude = Math.abs(c.bias?.[j] ?? 0);
              for (let kk = 0; kk < c.k; kk++) magnitude += Math.abs(c.x[i * c.k + kk] * w[kk * c.n + j]);
              const diff = Math.abs(got[i * c.n + j] - want[i * c.n + j]);
              if (diff > 4 * 2 ** -23 * magnitude + 1e-30) throw new Error(`${c.label}: (${i}, ${j}) ${got[i * c.n + j]} vs ${want[i * c.n + j]}`);
            }
          }
        }
      }
    });
  });

  describe('handles and calls', () => {
    const rand = rng(9);
    const [m, k, n] = [33, 70, 45];
    const b = randomInts(Int8Array, k * n, -128, 127, rand);
    const x = randomFloats(m * k, 1, rand);
    const scales = Float32Array.of(0.01);

    test("'auto' puts weights on the GPU; bytes count GPU memory; device stays after dispose()", () => {
      const w = kernels.packInt8Weights(b, k, n, { device: 'auto', scales });
      expect(w.device).toBe('cuda');
      expect(w.bytes).toBeGreaterThanOrEqual(k * n);
      w.dispose();
      expect([w.device, w.bytes, w.disposed]).toEqual(['cuda', 0, true]);
      expect(() => kernels.linearInt8(x, m, k, w)).toThrow(/has been disposed/);
      expect(kernels.packSparse(Int8Array.from(b), k, n, { device: 'auto', scales }).device).toBe('cuda');
    });

    test('async calls run concurrently, keep their weights through dispose(), and free the event loop', async () => {
      const cpu = kernels.packInt8Weights(b, k, n, { scales });
      const want = kernels.linearInt8(x, m, k, cpu);
      const gpu = kernels.packInt8Weights(b, k, n, { scales, device: 'cuda' });
      const calls = Array.from({ length: 16 }, () => kernels.linearInt8Async(x, m, k, gpu));
      gpu.dispose();
      for (const y of await Promise.all(calls)) expect(y).toEqual(want);
    });

    test('argument checks are the same as on the CPU', async () => {
      const gpu = kernels.packInt8Weights(b, k, n, { device: 'cuda' });
      expect(() => kernels.linearInt8(x, m, k, gpu)).toThrow(/packed without scales/);
      expect(() => kernels.matmulInteger(new Uint8Array(3), m, k, gpu)).toThrow(RangeError);
      await expect(kernels.matmulIntegerAsync(new Uint8Array(m * k), m, k + 1, gpu)).rejects.toThrow(RangeError);
    });

    test('int8OpsPerSecond measures the GEMM kernel alone', () => {
      expect(kernels._cudaInternals.int8OpsPerSecond(512, 2)).toBeGreaterThan(1e9);
    });
  });
});

