// The float GEMM API at the boundary: handles, argument checks, async form, threads.
import type { PackedFloat } from '../../binding';
import { kernels } from '../../lib/kernels';
import { testAddon } from '../helpers/test-addon';
import { rssGrowthMiB } from './gc-growth';
import { randomFloats, rng } from './int8-reference';
import { firstOutOfBound, linearRef } from './float-gemm-reference';

const rand = rng(5);
const k = 24;
const n = 10;
const m = 5;
const b = randomFloats(k * n, 1, rand);
const x = randomFloats(m * k, 1, rand);

describe('PackedFloat', () => {
  test('exposes its shape, size and ISA, and frees on dispose()', () => {
    const w = kernels.packFloatWeights(b, k, n);
    expect([w.k, w.n, w.device, w.disposed, w.isa]).toEqual([k, n, 'cpu', false, testAddon()._floatInternals.isa()]);
    // The panels hold k rows of n rounded up to the panel width (at most 32).
    expect(w.bytes).toBeGreaterThanOrEqual(4 * k * n);
    expect(w.bytes).toBeLessThanOrEqual(4 * k * (n + 31));
    expect(w).toBeInstanceOf(kernels.PackedFloat);
    w.dispose();
    expect([w.bytes, w.disposed, w.k, w.n]).toEqual([0, true, k, n]);
    w.dispose();
    expect(() => kernels.linearFloat(x, m, k, w)).toThrow(TypeError);
    expect(() => kernels.linearFloat(x, m, k, w)).toThrow(/w \(PackedFloat\) has been disposed/);
  });

  test('cannot be constructed from JS or faked', () => {
    const Ctor = kernels.PackedFloat as unknown as new () => PackedFloat;
    expect(() => new Ctor()).toThrow(/use kernels.packFloatWeights/);
    const fake = Object.create(kernels.PackedFloat.prototype);
    expect(() => kernels.linearFloat(x, m, k, fake)).toThrow(/w must be a PackedFloat/);
    expect(() => kernels.linearFloat(x, m, k, { k, n } as PackedFloat)).toThrow(TypeError);
    const int8 = kernels.packInt8Weights(new Int8Array(k * n), k, n);
    expect(() => kernels.linearFloat(x, m, k, int8 as unknown as PackedFloat)).toThrow(/w must be a PackedFloat/);
  });

  test('unreferenced handles are freed by the garbage collector', () => {
    // 150 x 4 MiB of weights would be 600 MiB if never freed.
    const { stderr, mib } = rssGrowthMiB('const b = new Float32Array(1024 * 1024);', 'addon.packFloatWeights(b, 1024, 1024)', 150);
    expect(stderr).toBe('');
    expect(mib).toBeLessThan(200);
  });
});

describe('argument checks', () => {
  const w = kernels.packFloatWeights(b, k, n);
  const call = (fn: unknown, ...args: unknown[]) => () => (fn as (...a: unknown[]) => unknown)(...args);

  test.each([
    ['b of the wrong kind', call(kernels.packFloatWeights, new Float64Array(k * n), k, n), TypeError, /b must be a Float32Array, got Float64Array/],
    ['b of the wrong length', call(kernels.packFloatWeights, new Float32Array(k * n - 1), k, n), RangeError, /b has length 239, expected 240/],
    ['a negative dim', call(kernels.packFloatWeights, b, -1, n), RangeError, /k must be a non-negative safe integer/],
    ['a fractional dim', call(kernels.packFloatWeights, b, k, 2.5), RangeError, /n must be an integer/],
    ['a dim that is not a number', call(kernels.packFloatWeights, b, '24', n), TypeError, /k must be a number/],
    ['a size that overflows', call(kernels.packFloatWeights, b, 2 ** 40, 2 ** 40), RangeError, /k \* n is too large/],
    ['too few arguments', call(kernels.packFloatWeights, b, k), TypeError, /expected 3 arguments/],
    ['transposed that is not a boolean', call(kernels.packFloatWeights, b, k, n, { transposed: 1 }), TypeError, /opts.transposed must be a boolean/],
    ['a misspelt option', call(kernels.packFloatWeights, b, k, n, { transpose: true }), TypeError, /unknown option 'transpose'/],
    ['options that are not an object', call(kernels.packFloatWeights, b, k, n, 'yes'), TypeError, /opts must be an object/],
    ['x of the wrong kind', call(kernels.linearFloat, new Int32Array(m * k), m, k, w), TypeError, /x must be a Float32Array, got Int32Array/],
    ['x of the wrong length', call(kernels.linearFloat, x, m + 1, k, w), RangeError, /x has length 120, expected 144/],
    ['a negative m', call(kernels.linearFloat, x, -5, k, w), RangeError, /m must be a non-negative safe integer/],
    ['k that differs from w.k', call(kernels.linearFloat, new Float32Array(m * (k + 1)), m, k + 1, w), RangeError, /k \(25\) does not match w.k \(24\)/],
    ['m * k that overflows', call(kernels.linearFloat, x, 2 ** 53 - 1, 2 ** 20, w), RangeError, /m \* k is too large/],
    ['w that is not a PackedFloat', call(kernels.linearFloat, x, m, k, {}), TypeError, /w must be a PackedFloat/],
    ['too few arguments for linearFloat', call(kernels.linearFloat, x, m, k), TypeError, /expected 4 arguments/],
    ['bias of the wrong length', call(kernels.linearFloat, x, m, k, w, new Float32Array(n + 1)), RangeError, /bias has length 11, expected 10/],
    ['bias of the wrong kind', call(kernels.linearFloat, x, m, k, w, [1, 2]), TypeError, /bias must be a Float32Array/],
    ['an unknown activation', call(kernels.linearFloat, x, m, k, w, null, { activation: 'swish' }), TypeError, /opts.activation must be one of 'none', 'relu', 'gelu'/],
    ['an activation that is not a string', call(kernels.linearFloat, x, m, k, w, null, { activation: 2 }), TypeError, /opts.activation must be one of/],
    ['a residual of the wrong length', call(kernels.linearFloat, x, m, k, w, null, { residual: new Float32Array(m * n - 1) }), RangeError, /opts.residual has length 49, expected 50/],
    ['a residual of the wrong kind', call(kernels.linearFloat, x, m, k, w, null, { residual: new Float64Array(m * n) }), TypeError, /opts.residual must be a Float32Array/],
    ['a misspelt linear option', call(kernels.linearFloat, x, m, k, w, null, { act: 'relu' }), TypeError, /unknown option 'act'/],
  ])('%s', (_name, fn, type, message) => {
    expect(fn).toThrow(type);
    expect(fn).toThrow(message);
  });

  test('the async form rejects with the same errors instead of throwing', async () => {
    await expect(kernels.linearFloatAsync(x, m + 1, k, w)).rejects.toThrow(RangeError);
    await expect(kernels.linearFloatAsync(x, m, k, w, null, { activation: 'swish' as 'relu' })).rejects.toThrow(/opts.activation/);
  });
});

describe('linearFloat', () => {
  test('empty products: m = 0 or n = 0 give empty results, k = 0 gives activation(bias) + residual', () => {
    const none = kernels.packFloatWeights(new Float32Array(0), 0, 3);
    expect(kernels.linearFloat(new Float32Array(0), 0, 0, none).length).toBe(0);
    const bias = Float32Array.of(-1, 0.5, 2);
    const residual = Float32Array.of(1, 1, 1, 2, 2, 2);
    expect(Array.from(kernels.linearFloat(new Float32Array(0), 2, 0, none, bias, { activation: 'relu', residual })))
      .toEqual([1, 1.5, 3, 2, 2.5, 4]);
    const noColumns = kernels.packFloatWeights(new Float32Array(0), 4, 0);
    expect(kernels.linearFloat(new Float32Array(8), 2, 4, noColumns).length).toBe(0);
  });

  test('results do not depend on the thread count (same bits)', () => {
    const big = randomFloats(300 * 200, 1, rand);
    const w = kernels.packFloatWeights(big, 300, 200);
    const act = randomFloats(70 * 300, 1, rand);
    const bias = randomFloats(200, 1, rand);
    const threads = kernels.getNumThreads();
    try {
      kernels.setNumThreads(1);
      const one = kernels.linearFloat(act, 70, 300, w, bias, { activation: 'gelu' });
      kernels.setNumThreads(3);
      const three = kernels.linearFloat(act, 70, 300, w, bias, { activation: 'gelu' });
      expect(three).toEqual(one);
      expect(firstOutOfBound(one, linearRef({ label: '', m: 70, k: 300, n: 200, b: big, transposed: false, x: act, bias, activation: 'gelu' })))
        .toBeNull();
    } finally {
      kernels.setNumThreads(threads);
    }
  });

  test('the async form works on copies: changing the inputs after the call does not change its result', async () => {
    const w = kernels.packFloatWeights(b, k, n);
    const input = Float32Array.from(x);
    const residual = randomFloats(m * n, 1, rand);
    const want = kernels.linearFloat(input, m, k, w, null, { residual });
    const pending = kernels.linearFloatAsync(input, m, k, w, null, { residual });
    input.fill(100);
    residual.fill(-100);
    w.dispose();
    expect(await pending).toEqual(want);
  });

  test('weights packed from B and from B transposed give the same bits', () => {
    const bT = new Float32Array(k * n);
    for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) bT[j * k + p] = b[p * n + j];
    const direct = kernels.linearFloat(x, m, k, kernels.packFloatWeights(b, k, n));
    const transposed = kernels.linearFloat(x, m, k, kernels.packFloatWeights(bT, k, n, { transposed: true }));
    expect(transposed).toEqual(direct);
  });
});
