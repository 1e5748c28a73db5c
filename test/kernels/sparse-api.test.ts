// The sparse API at the boundary: PackedSparse handles, 2:4 checks, argument checks, async forms.
import type { PackedSparse } from '../../binding';
import { kernels } from '../../lib/kernels';
import { rssGrowthMiB } from './gc-growth';
import { randomFloats, rng } from './int8-reference';
import { matmulRef } from './sparse-reference';

const rand = rng(5);
const k = 24;
const n = 10;
const m = 5;
const wf = randomFloats(k * n, 1, rand).map((v, i) => (i % 3 === 0 ? v : 0));
const wq = Int8Array.from(wf, (v) => Math.round(v * 100));
const x = randomFloats(m * k, 1, rand);

describe('PackedSparse', () => {
  test('exposes its shape, nonzeros, sparsity, dtype and size, and frees on dispose()', () => {
    const w = kernels.packSparse(wf, k, n);
    const nonzeros = wf.filter((v) => v !== 0).length;
    expect([w.k, w.n, w.nonzeros, w.dtype, w.pattern, w.device, w.hasScales, w.disposed])
      .toEqual([k, n, nonzeros, 'float32', 'unstructured', 'cpu', false, false]);
    expect(w.sparsity).toBeCloseTo(1 - nonzeros / (k * n), 12);
    expect(w.isa).toBe(kernels.cpuInfo().isa === 'amx' ? 'avx512vnni' : kernels.cpuInfo().isa);
    expect(w.bytes).toBeGreaterThanOrEqual(nonzeros * 4);
    expect(w).toBeInstanceOf(kernels.PackedSparse);
    w.dispose();
    expect([w.bytes, w.disposed, w.k, w.n, w.nonzeros]).toEqual([0, true, k, n, nonzeros]);
    w.dispose();
    expect(() => kernels.matmulSparse(x, m, k, w)).toThrow(/w \(PackedSparse\) has been disposed/);
    const q = kernels.packSparse(wq, k, n, { scales: Float32Array.of(0.01) });
    expect([q.dtype, q.hasScales, q.nonzeros]).toEqual(['int8', true, wq.filter((v) => v !== 0).length]);
  });

  test('-0 counts as zero; all-zero and empty weights give zeros plus bias', () => {
    const w = kernels.packSparse(Float32Array.of(-0, 0, 2, -0), 2, 2);
    expect(w.nonzeros).toBe(1);
    const zero = kernels.packSparse(new Float32Array(k * n), k, n);
    expect([zero.nonzeros, zero.sparsity]).toEqual([0, 1]);
    const bias = Float32Array.from({ length: n }, (_, j) => j - 3);
    const y = kernels.matmulSparse(x, m, k, zero, bias);
    for (let i = 0; i < m; i++) expect(y.subarray(i * n, (i + 1) * n)).toEqual(bias);
    const empty = kernels.packSparse(new Float32Array(0), 0, 4);
    expect(kernels.matmulSparse(new Float32Array(0), 3, 0, empty)).toEqual(new Float32Array(12));
    expect(kernels.matmulSparse(new Float32Array(0), 0, 0, empty).length).toBe(0);
  });

  test('cannot be constructed from JS or faked', () => {
    const Ctor = kernels.PackedSparse as unknown as new () => PackedSparse;
    expect(() => new Ctor()).toThrow(/use kernels.packSparse/);
    const fake = Object.create(kernels.PackedSparse.prototype);
    expect(() => kernels.matmulSparse(x, m, k, fake)).toThrow(/w must be a PackedSparse/);
    const int8 = kernels.packInt8Weights(wq, k, n, { scales: Float32Array.of(1) });
    expect(() => kernels.matmulSparse(x, m, k, int8 as unknown as PackedSparse)).toThrow(/w must be a PackedSparse/);
  });

  test("'2:4' is checked: more than 2 nonzeros in 4 rows of a column is refused, naming where", () => {
    const w = new Float32Array(8 * 3);
    w[0 * 3 + 1] = 1;
    w[1 * 3 + 1] = 1;
    expect(kernels.packSparse(w, 8, 3, { pattern: '2:4' }).pattern).toBe('2:4');
    w[6 * 3 + 2] = 1;
    w[5 * 3 + 2] = 1;
    w[4 * 3 + 2] = 1;
    expect(() => kernels.packSparse(w, 8, 3, { pattern: '2:4' })).toThrow(/rows 4\.\.7 of column 2 hold more than 2 nonzeros/);
    const pruned = kernels.pruneMask(randomFloats(64 * 9, 1, rand), 64, 9, { pattern: '2:4' });
    expect(kernels.packSparse(Int8Array.from(pruned), 64, 9, { pattern: '2:4' }).nonzeros).toBe(32 * 9);
  });

  test("device: 'auto' is the GPU when there is one, else the CPU; 'cuda' without one says why", () => {
    const gpu = kernels.cudaAvailable();
    expect(kernels.packSparse(wf, k, n, { device: 'auto' }).device).toBe(gpu ? 'cuda' : 'cpu');
    if (!gpu) expect(() => kernels.packSparse(wf, k, n, { device: 'cuda' })).toThrow(/^CUDA is not available: ./);
    expect(() => kernels.packSparse(wf, k, n, { device: 'gpu' as 'cpu' })).toThrow(TypeError);
  });

  test('unreferenced handles are freed by the garbage collector', () => {
    // 100 x 4 MiB of packed float32 weights would be 400 MiB if never freed.
    const growth = rssGrowthMiB('const w = new Float32Array(1024 * 1024).fill(1);', 'addon.packSparse(w, 1024, 1024)', 100);
    expect(growth.stderr).toBe('');
    expect(growth.mib).toBeLessThan(200);
  });
});

describe('argument checks', () => {
  const w = kernels.packSparse(wf, k, n);
  const q = kernels.packSparse(wq, k, n, { scales: Float32Array.of(0.1) });
  const call = (fn: unknown, ...args: unknown[]) => () => (fn as (...a: unknown[]) => unknown)(...args);

  test.each([
    ['w of the wrong kind', call(kernels.packSparse, new Uint8Array(k * n), k, n), TypeError, /w must be a Float32Array or Int8Array, got Uint8Array/],
    ['w of the wrong length', call(kernels.packSparse, wf, k, n + 1), RangeError, /w has length 240, expected 264/],
    ['a negative dim', call(kernels.packSparse, wf, -1, n), RangeError, /k must be a non-negative safe integer/],
    ['a size that overflows', call(kernels.packSparse, wf, 2 ** 40, 2 ** 40), RangeError, /k \* n is too large/],
    ['too few arguments', call(kernels.packSparse, wf, k), TypeError, /expected 3 arguments/],
    ['an unknown pattern', call(kernels.packSparse, wf, k, n, { pattern: '4:8' }), TypeError, /opts.pattern must be 'unstructured' or '2:4'/],
    ['scales for float32 weights', call(kernels.packSparse, wf, k, n, { scales: Float32Array.of(1) }), TypeError, /opts.scales is only for int8 weights/],
    ['scales of the wrong length', call(kernels.packSparse, wq, k, n, { scales: new Float32Array(3) }), RangeError, /opts.scales must have 1 \(per tensor\) or n = 10/],
    ['non-finite scales', call(kernels.packSparse, wq, k, n, { scales: Float32Array.of(Infinity) }), RangeError, /opts.scales must be positive and finite/],
    ['a misspelt option', call(kernels.packSparse, wf, k, n, { patern: '2:4' }), TypeError, /unknown option 'patern'/],
    ['x of the wrong kind', call(kernels.matmulSparse, new Float64Array(m * k), m, k, w), TypeError, /x must be a Float32Array/],
    ['x of the wrong length', call(kernels.matmulSparse, x, m + 1, k, w), RangeError, /x has length 120, expected 144/],
    ['k that differs from w.k', call(kernels.matmulSparse, new Float32Array(m * (k + 1)), m, k + 1, w), RangeError, /k \(25\) does not match w.k \(24\)/],
    ['m * k that overflows', call(kernels.matmulSparse, x, 2 ** 53 - 1, 2 ** 20, w), RangeError, /m \* k is too large/],
    ['w that is not a PackedSparse', call(kernels.matmulSparse, x, m, k, {}), TypeError, /w must be a PackedSparse/],
    ['int8 weights in matmulSparse', call(kernels.matmulSparse, x, m, k, q), TypeError, /w holds int8 weights; matmulSparse needs/],
    ['float32 weights in linearSparseInt8', call(kernels.linearSparseInt8, x, m, k, w), TypeError, /w holds float32 weights; linearSparseInt8 needs/],
    ['int8 weights without scales', call(kernels.linearSparseInt8, x, m, k, kernels.packSparse(wq, k, n)), TypeError, /w was packed without scales/],
    ['bias of the wrong length', call(kernels.matmulSparse, x, m, k, w, new Float32Array(n + 1)), RangeError, /bias has length 11, expected 10/],
    ['bias of the wrong kind', call(kernels.linearSparseInt8, x, m, k, q, new Int32Array(n)), TypeError, /bias must be a Float32Array/],
  ])('%s', (_name, fn, type, message) => {
    expect(fn).toThrow(type);
    expect(fn).toThrow(message);
  });
});

describe('matmulSparse and linearSparseInt8', () => {
  test('results do not depend on the thread count', () => {
    const big = randomFloats(400 * 300, 1, rand).map((v) => (rand() < 0.8 ? 0 : v));
    const w = kernels.packSparse(big, 400, 300);
    const act = randomFloats(40 * 400, 1, rand);
    const want = kernels.matmulSparse(act, 40, 400, w);
    const threads = kernels.getNumThreads();
    try {
      for (const t of [1, 2, 5]) {
        kernels.setNumThreads(t);
        expect(kernels.matmulSparse(act, 40, 400, w)).toEqual(want);
      }
    } finally {
      kernels.setNumThreads(threads);
    }
  });

  test('async forms resolve to the sync results and reject bad calls', async () => {
    const w = kernels.packSparse(wf, k, n);
    const q = kernels.packSparse(wq, k, n, { scales: Float32Array.of(0.1) });
    const bias = Float32Array.from({ length: n }, (_, j) => j);
    await expect(kernels.matmulSparseAsync(x, m, k, w, bias)).resolves.toEqual(kernels.matmulSparse(x, m, k, w, bias));
    await expect(kernels.linearSparseInt8Async(x, m, k, q, bias)).resolves.toEqual(kernels.linearSparseInt8(x, m, k, q, bias));
    await expect(kernels.matmulSparseAsync(x, m, k + 1, w)).rejects.toThrow(RangeError);
    await expect(kernels.linearSparseInt8Async(x, m, k, {} as PackedSparse)).rejects.toThrow(TypeError);
  });

  test('an async call survives dispose() and a detached input', async () => {
    const kk = 512;
    const nn = 1024;
    const big = randomFloats(kk * nn, 1, rand).map((v) => (rand() < 0.5 ? 0 : v));
    const act = randomFloats(64 * kk, 1, rand);
    const want = matmulRef(act, 64, kk, big, nn);
    const w = kernels.packSparse(big, kk, nn);
    const pending = kernels.matmulSparseAsync(act, 64, kk, w);
    w.dispose();
    structuredClone(act.buffer, { transfer: [act.buffer as ArrayBuffer] });
    expect(act.length).toBe(0);
    const y = await pending;
    for (let e = 0; e < y.length; e++) expect(Math.abs(y[e] - want.y[e])).toBeLessThanOrEqual(1e-5 * want.scale[e]);
  });
});
