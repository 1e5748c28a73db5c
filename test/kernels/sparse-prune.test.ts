// pruneMask: the same masks as a full sort by magnitude, exact counts, argument checks.
import type { PruneMaskOptions } from '../../binding';
import { kernels } from '../../lib/kernels';
import { rng } from './int8-reference';
import { countKept, pruneMaskRef } from './sparse-reference';

const rand = rng(11);
/** Values from a small set (many ties, both signs, zeros) or continuous. */
function weights(count: number, distinct = 0): Float32Array {
  return Float32Array.from({ length: count }, () =>
    distinct ? (Math.floor(rand() * distinct) - distinct / 2) * 0.25 : (rand() - 0.5) * 4);
}

const SHAPES: [number, number][] = [[1, 1], [3, 5], [15, 17], [17, 15], [63, 65], [65, 3], [128, 96]];

describe('pruneMask', () => {
  test.each(['unstructured', '2:4', '4:8', 'block'] as const)('%s equals the full-sort reference on awkward shapes, with ties', (pattern) => {
    const failures: string[] = [];
    for (const [k, n] of SHAPES) {
      for (const distinct of [0, 5]) {
        const w = weights(k * n, distinct);
        const cases: PruneMaskOptions[] = pattern === '2:4' || pattern === '4:8'
          ? [{ pattern }, { pattern, sparsity: 0.5 }]
          : [0, 0.3, 0.5, 0.9, 0.99, 1].map((sparsity) => ({ pattern, sparsity }));
        if (pattern === 'block') cases.push({ pattern, sparsity: 0.7, block: [2, 3] }, { pattern, sparsity: 0.5, block: [1, 16] });
        for (const opts of cases) {
          const got = kernels.pruneMask(w, k, n, opts);
          const want = pruneMaskRef(w, k, n, opts);
          if (!Buffer.from(got).equals(Buffer.from(want))) failures.push(`${k}x${n} ${JSON.stringify(opts)} distinct=${distinct}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  test('unstructured zeros exactly round(sparsity * k * n), whatever the ties', () => {
    const w = new Float32Array(7 * 3).fill(1.5);
    for (const sparsity of [0, 0.1, 0.5, 0.9, 1]) {
      expect(countKept(kernels.pruneMask(w, 7, 3, { sparsity }))).toBe(21 - Math.round(sparsity * 21));
    }
    // 0.5 * 21 = 10.5 rounds up; ties keep the lower indices.
    expect(Array.from(kernels.pruneMask(w, 7, 3, { sparsity: 0.5 }))).toEqual([...Array(10).fill(1), ...Array(11).fill(0)]);
  });

  test('-x ties with x, -0 with 0, and Infinity ranks first', () => {
    const w = Float32Array.of(-2, 2, 0, -0, Infinity, -Infinity, 1, -1);
    expect(Array.from(kernels.pruneMask(w, 1, 8, { sparsity: 0.5 }))).toEqual([1, 1, 0, 0, 1, 1, 0, 0]);
    expect(Array.from(kernels.pruneMask(w, 1, 8, { sparsity: 0.75 }))).toEqual([0, 0, 0, 0, 1, 1, 0, 0]);
  });

  test('N:M groups run down the columns (along k); a short last group keeps min(N, size)', () => {
    // k = 6, n = 2: column 0 is 1..6, column 1 is 6..1.
    const w = Float32Array.of(1, 6, 2, 5, 3, 4, 4, 3, 5, 2, 6, 1);
    expect(Array.from(kernels.pruneMask(w, 6, 2, { pattern: '2:4' }))).toEqual([0, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1]);
    const big = weights(64 * 40);
    const mask = kernels.pruneMask(big, 64, 40, { pattern: '4:8' });
    for (let g = 0; g < 64; g += 8) {
      for (let j = 0; j < 40; j++) {
        let kept = 0;
        for (let r = 0; r < 8; r++) kept += mask[(g + r) * 40 + j];
        expect(kept).toBe(4);
      }
    }
  });

  test("'block' defaults to [4, 1] blocks and prunes whole blocks", () => {
    const w = weights(16 * 8);
    const mask = kernels.pruneMask(w, 16, 8, { pattern: 'block', sparsity: 0.75 });
    expect(mask).toEqual(pruneMaskRef(w, 16, 8, { pattern: 'block', sparsity: 0.75, block: [4, 1] }));
    expect(countKept(mask)).toBe(16 * 8 / 4);
    for (let g = 0; g < 16; g += 4) {
      for (let j = 0; j < 8; j++) {
        const block = [0, 1, 2, 3].map((r) => mask[(g + r) * 8 + j]);
        expect(new Set(block).size).toBe(1);
      }
    }
  });

  test('empty weights give an empty mask; the async form gives the same mask', async () => {
    expect(kernels.pruneMask(new Float32Array(0), 0, 5, { sparsity: 0.5 })).toEqual(new Uint8Array(0));
    const w = weights(40 * 33, 7);
    for (const opts of [{ sparsity: 0.8 }, { pattern: '2:4' }, { pattern: 'block', sparsity: 0.6 }] as PruneMaskOptions[]) {
      await expect(kernels.pruneMaskAsync(w, 40, 33, opts)).resolves.toEqual(kernels.pruneMask(w, 40, 33, opts));
    }
  });

  test('bad arguments throw TypeError/RangeError naming them; async forms reject', async () => {
    const w = weights(12);
    const call = (...args: unknown[]) => () => (kernels.pruneMask as (...a: unknown[]) => Uint8Array)(...args);
    expect(call(w, 3, 4)).toThrow(TypeError);
    expect(call(new Float64Array(12), 3, 4, { sparsity: 0.5 })).toThrow(/w must be a Float32Array/);
    expect(call(w, 3, 5, { sparsity: 0.5 })).toThrow(RangeError);
    expect(call(w, -3, -4, { sparsity: 0.5 })).toThrow(/k must be a non-negative/);
    expect(call(w, 3, 4, null)).toThrow(/opts must be an object/);
    expect(call(w, 3, 4, {})).toThrow(/opts.sparsity is required/);
    expect(call(w, 3, 4, { sparsity: 1.5 })).toThrow(RangeError);
    expect(call(w, 3, 4, { sparsity: NaN })).toThrow(/opts.sparsity must be finite/);
    expect(call(w, 3, 4, { sparsity: 0.5, pattern: '3:4' })).toThrow(/opts.pattern must be/);
    expect(call(w, 4, 3, { sparsity: 0.9, pattern: '2:4' })).toThrow(/contradicts pattern '2:4'/);
    expect(call(w, 3, 4, { sparsity: 0.5, block: [2, 2] })).toThrow(/only for pattern 'block'/);
    expect(call(w, 3, 4, { sparsity: 0.5, pattern: 'block', block: [0, 2] })).toThrow(/opts.block\[0\] must be at least 1/);
    expect(call(w, 3, 4, { sparsity: 0.5, pattern: 'block', block: [2] })).toThrow(TypeError);
    expect(call(w, 3, 4, { sparsity: 0.5, sparse: true })).toThrow(/unknown option 'sparse'/);
    const nan = w.slice();
    nan[7] = NaN;
    expect(call(nan, 3, 4, { sparsity: 0.5 })).toThrow(/w holds NaN \(at index 7\)/);
    await expect(kernels.pruneMaskAsync(nan, 3, 4, { sparsity: 0.5 })).rejects.toThrow(RangeError);
  });
});
