// The int8 API at the boundary: handles, argument checks, async forms.
import type { PackedInt8 } from '../../binding';
import { kernels } from '../../lib/kernels';
import { testAddon } from '../helpers/test-addon';
import { ADDON } from './int8-isa';
import { rssGrowthMiB } from './gc-growth';
import { matmulIntegerRef, randomInts, rng } from './int8-reference';

const rand = rng(3);
const k = 24;
const n = 10;
const m = 5;
const b = randomInts(Int8Array, k * n, -128, 127, rand);
const a = randomInts(Uint8Array, m * k, 0, 255, rand);
const x = Float32Array.from({ length: m * k }, () => rand() - 0.5);

describe('PackedInt8', () => {
  test('exposes its shape, size and ISA, and frees on dispose()', () => {
    const w = kernels.packInt8Weights(b, k, n, { scales: Float32Array.of(0.5) });
    expect([w.k, w.n, w.device, w.hasScales, w.disposed]).toEqual([k, n, 'cpu', true, false]);
    expect(w.isa).toBe(kernels.cpuInfo().isa === 'amx' ? 'amx' : testAddon()._int8Internals.isa());
    expect(w.bytes).toBeGreaterThanOrEqual(k * n);
    expect(w).toBeInstanceOf(kernels.PackedInt8);
    w.dispose();
    expect([w.bytes, w.disposed, w.k, w.n]).toEqual([0, true, k, n]);
    w.dispose();
    expect(() => kernels.matmulInteger(a, m, k, w)).toThrow(/w \(PackedInt8\) has been disposed/);
    expect(() => kernels.linearInt8(x, m, k, w)).toThrow(TypeError);
  });

  test('cannot be constructed from JS or faked', () => {
    const Ctor = kernels.PackedInt8 as unknown as new () => PackedInt8;
    expect(() => new Ctor()).toThrow(/use kernels.packInt8Weights/);
    const fake = Object.create(kernels.PackedInt8.prototype);
    expect(() => kernels.matmulInteger(a, m, k, fake)).toThrow(/w must be a PackedInt8/);
    expect(() => kernels.matmulInteger(a, m, k, { k, n } as PackedInt8)).toThrow(TypeError);
  });

  test("device: 'auto' is the GPU when there is one, else the CPU; 'cuda' without one says why", () => {
    const gpu = kernels.cudaAvailable();
    expect(kernels.packInt8Weights(b, k, n, { device: 'auto' }).device).toBe(gpu ? 'cuda' : 'cpu');
    expect(kernels.packInt8Weights(b, k, n, { device: 'cpu' }).device).toBe('cpu');
    if (!gpu) expect(() => kernels.packInt8Weights(b, k, n, { device: 'cuda' })).toThrow(/^CUDA is not available: ./);
    expect(() => kernels.packInt8Weights(b, k, n, { device: 'gpu' as 'cpu' })).toThrow(TypeError);
  });

  test('unreferenced handles are freed by the garbage collector', () => {
    // 150 x 4 MiB of weights would be 600 MiB if never freed.
    const growth = rssGrowthMiB('const b = new Int8Array(2048 * 2048);', 'addon.packInt8Weights(b, 2048, 2048)', 150);
    expect(growth.stderr).toBe('');
    expect(growth.mib).toBeLessThan(200);
  });
});

describe('argument checks', () => {
  const w = kernels.packInt8Weights(b, k, n, { scales: Float32Array.of(0.1) });
  const call = (fn: unknown, ...args: unknown[]) => () => (fn as (...a: unknown[]) => unknown)(...args);

  test.each([
    ['b of the wrong kind', call(kernels.packInt8Weights, new Uint8Array(k * n), k, n), TypeError, /b must be a Int8Array, got Uint8Array/],
    ['b of the wrong length', call(kernels.packInt8Weights, new Int8Array(k * n - 1), k, n), RangeError, /b has length 239, expected 240/],
    ['a negative dim', call(kernels.packInt8Weights, b, -1, n), RangeError, /k must be a non-negative safe integer/],
    ['a fractional dim', call(kernels.packInt8Weights, b, 2.5, n), RangeError, /k must be an integer/],
    ['a dim that is not a number', call(kernels.packInt8Weights, b, '24', n), TypeError, /k must be a number/],
    ['a size that overflows', call(kernels.packInt8Weights, b, 2 ** 40, 2 ** 40), RangeError, /k \* n is too large/],
    ['too few arguments', call(kernels.packInt8Weights, b, k), TypeError, /expected 3 arguments/],
    ['scales of the wrong length', call(kernels.packInt8Weights, b, k, n, { scales: new Float32Array(3) }), RangeError, /opts.scales must have 1 \(per tensor\) or n = 10/],
    ['non-finite scales', call(kernels.packInt8Weights, b, k, n, { scales: Float32Array.of(NaN) }), RangeError, /opts.scales must be positive and finite/],
    ['zero points of the wrong kind', call(kernels.packInt8Weights, b, k, n, { zeroPoints: new Uint8Array(1) }), TypeError, /opts.zeroPoints must be a Int8Array/],
    ['zero points of the wrong length', call(kernels.packInt8Weights, b, k, n, { zeroPoints: new Int8Array(2) }), RangeError, /opts.zeroPoints must have 1/],
    ['a misspelt option', call(kernels.packInt8Weights, b, k, n, { scale: Float32Array.of(1) }), TypeError, /unknown option 'scale'/],
    ['options that are not an object', call(kernels.packInt8Weights, b, k, n, 5), TypeError, /opts must be an object/],
    ['a of the wrong kind', call(kernels.matmulInteger, new Float32Array(m * k), m, k, w), TypeError, /a must be a Uint8Array or Int8Array, got Float32Array/],
    ['a of the wrong length', call(kernels.matmulInteger, a, m + 1, k, w), RangeError, /a has length 120, expected 144/],
    ['k that differs from w.k', call(kernels.matmulInteger, new Uint8Array(m * (k + 1)), m, k + 1, w), RangeError, /k \(25\) does not match w.k \(24\)/],
    ['m * k that overflows', call(kernels.matmulInteger, a, 2 ** 53 - 1, 2 ** 20, w), RangeError, /m \* k is too large/],
    ['w that is not a PackedInt8', call(kernels.matmulInteger, a, m, k, {}), TypeError, /w must be a PackedInt8/],
    ['a uint8 zero point out of range', call(kernels.matmulInteger, a, m, k, w, 256), RangeError, /aZeroPoint must be an integer in \[0, 255\]/],
    ['an int8 zero point out of range', call(kernels.matmulInteger, new Int8Array(m * k), m, k, w, 128), RangeError, /aZeroPoint must be an integer in \[-128, 127\]/],
    ['a zero point array of the wrong kind', call(kernels.matmulInteger, a, m, k, w, new Int8Array(m)), TypeError, /aZeroPoint must be a Uint8Array, got Int8Array/],
    ['a zero point array of the wrong length', call(kernels.matmulInteger, a, m, k, w, new Uint8Array(m + 1)), RangeError, /aZeroPoint must have 1 or m = 5 values/],
    ['a zero point that is a string', call(kernels.matmulInteger, a, m, k, w, '3'), TypeError, /aZeroPoint must be a number or a Uint8Array/],
    ['x of the wrong kind', call(kernels.linearInt8, new Float64Array(m * k), m, k, w), TypeError, /x must be a Float32Array/],
    ['bias of the wrong length', call(kernels.linearInt8, x, m, k, w, new Float32Array(n + 1)), RangeError, /bias has length 11, expected 10/],
    ['bias of the wrong kind', call(kernels.linearInt8, x, m, k, w, new Int32Array(n)), TypeError, /bias must be a Float32Array/],
    ['weights without scales', call(kernels.linearInt8, x, m, k, kernels.packInt8Weights(b, k, n)), TypeError, /w was packed without scales/],
  ])('%s', (_name, fn, type, message) => {
    expect(fn).toThrow(type);
    expect(fn).toThrow(message);
  });
});

describe('matmulInteger and linearInt8', () => {
  test('an empty product gives an empty result', () => {
    const w = kernels.packInt8Weights(new Int8Array(0), 0, 7);
    expect(kernels.matmulInteger(new Uint8Array(0), 3, 0, w, 9)).toEqual(new Int32Array(21));
    expect(kernels.matmulInteger(new Uint8Array(0), 0, 0, w).length).toBe(0);
  });

  test('results do not depend on the thread count', () => {
    const big = randomInts(Int8Array, 300 * 200, -128, 127, rand);
    const w = kernels.packInt8Weights(big, 300, 200, { zeroPoints: Int8Array.of(-7) });
    const act = randomInts(Int8Array, 70 * 300, -128, 127, rand);
    const want = matmulIntegerRef(act, 70, 300, big, 200, [5], [-7]);
    const threads = kernels.getNumThreads();
    try {
      for (const t of [1, 2, 5]) {
        kernels.setNumThreads(t);
        expect(kernels.matmulInteger(act, 70, 300, w, 5)).toEqual(want);
      }
    } finally {
      kernels.setNumThreads(threads);
    }
  });

  test('async forms resolve to the sync results and reject bad calls', async () => {
    const w = kernels.packInt8Weights(b, k, n, { scales: Float32Array.of(0.1) });
    await expect(kernels.matmulIntegerAsync(a, m, k, w, 17)).resolves.toEqual(kernels.matmulInteger(a, m, k, w, 17));
    const bias = Float32Array.from({ length: n }, (_, j) => j);
    await expect(kernels.linearInt8Async(x, m, k, w, bias)).resolves.toEqual(kernels.linearInt8(x, m, k, w, bias));
    await expect(kernels.matmulIntegerAsync(a, m, k + 1, w)).rejects.toThrow(RangeError);
    await expect(kernels.linearInt8Async(x, m, k, {} as PackedInt8)).rejects.toThrow(TypeError);
  });

  test('an async call survives dispose() and a detached input', async () => {
    const kk = 512;
    const nn = 1024;
    const big = randomInts(Int8Array, kk * nn, -128, 127, rand);
    const w = kernels.packInt8Weights(big, kk, nn);
    const act = randomInts(Uint8Array, 64 * kk, 0, 255, rand);
    const want = kernels.matmulInteger(act, 64, kk, w);
    const pending = kernels.matmulIntegerAsync(act, 64, kk, w);
    w.dispose();
    structuredClone(act.buffer, { transfer: [act.buffer] });
    expect(act.length).toBe(0);
    await expect(pending).resolves.toEqual(want);
  });

  test('linearInt8 handles rows of zeros and a missing bias', () => {
    const w = kernels.packInt8Weights(b, k, n, { scales: Float32Array.of(0.25), zeroPoints: Int8Array.of(3) });
    expect(kernels.linearInt8(new Float32Array(2 * k), 2, k, w)).toEqual(new Float32Array(2 * n));
    const bias = Float32Array.from({ length: n }, (_, j) => j / 4);
    expect(kernels.linearInt8(new Float32Array(k), 1, k, w, bias)).toEqual(bias);
  });
});
