// An options object whose getter resizes or detaches an input's buffer after the addon took its pointer
// (issue 22: nine segfaults from one call). Every binding reads all options first and checks the input
// again before touching its memory: a TypeError, never a crash, and the process carries on.
import { kernels } from '../../lib/kernels';

type Spoil = (buffer: ArrayBuffer) => void;

const resize: Spoil = (buffer) => (buffer as ArrayBuffer & { resize(n: number): void }).resize(0);
const detach: Spoil = (buffer) => { structuredClone(buffer, { transfer: [buffer] }); };

/** A float32 array of `count` values over a buffer `spoil` can shrink or take away. */
function floats(count: number, spoil: Spoil): { array: Float32Array; spoil: () => void } {
  const buffer = spoil === resize
    ? new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer)(count * 4, { maxByteLength: count * 4 })
    : new ArrayBuffer(count * 4);
  const array = new Float32Array(buffer);
  array.fill(0.5);
  return { array, spoil: () => spoil(buffer) };
}

function int8s(count: number, spoil: Spoil): { array: Int8Array; spoil: () => void } {
  const buffer = spoil === resize
    ? new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer)(count, { maxByteLength: count })
    : new ArrayBuffer(count);
  const array = new Int8Array(buffer);
  array.fill(3);
  return { array, spoil: () => spoil(buffer) };
}

const K = 64, N = 32;

const CASES: Record<string, (spoil: Spoil) => unknown> = {
  quantize: (s) => { const x = floats(4096, s); return kernels.quantize(x.array, { get scale() { x.spoil(); return 0.5; } }); },
  dequantize: (s) => {
    const buffer = s === resize
      ? new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer)(4096, { maxByteLength: 4096 })
      : new ArrayBuffer(4096);
    return kernels.dequantize(new Uint8Array(buffer), { get scale() { s(buffer); return 0.5; } });
  },
  quantParams: (s) => { const x = floats(4096, s); return kernels.quantParams(x.array, { get symmetric() { x.spoil(); return true; } }); },
  packInt8Weights: (s) => {
    const b = int8s(K * N, s);
    return kernels.packInt8Weights(b.array, K, N, { get scales() { b.spoil(); return new Float32Array([0.1]); } });
  },
  'packInt8Weights (the scales)': (s) => {
    const scales = floats(N, s);
    return kernels.packInt8Weights(new Int8Array(K * N), K, N, { scales: scales.array, get zeroPoints() { scales.spoil(); return undefined; } });
  },
  pruneMask: (s) => { const w = floats(K * N, s); return kernels.pruneMask(w.array, K, N, { get sparsity() { w.spoil(); return 0.5; } }); },
  pruneMaskAsync: (s) => { const w = floats(K * N, s); return kernels.pruneMaskAsync(w.array, K, N, { get sparsity() { w.spoil(); return 0.5; } }); },
  packSparse: (s) => { const w = floats(K * N, s); return kernels.packSparse(w.array, K, N, { get pattern() { w.spoil(); return 'unstructured' as const; } }); },
  'packSparse 2:4': (s) => { const w = floats(K * N, s); return kernels.packSparse(w.array, K, N, { get pattern() { w.spoil(); return '2:4' as const; } }); },
  packFloatWeights: (s) => { const b = floats(K * N, s); return kernels.packFloatWeights(b.array, K, N, { get transposed() { b.spoil(); return false; } }); },
  linearFloat: (s) => {
    const w = kernels.packFloatWeights(new Float32Array(K * N), K, N);
    const x = floats(8 * K, s);
    return kernels.linearFloat(x.array, 8, K, w, undefined, { get activation() { x.spoil(); return 'none' as const; } });
  },
};

describe.each([['resized to 0', resize], ['detached', detach]] as const)('an input buffer %s by an options getter', (_, spoil) => {
  test.each(Object.keys(CASES))('%s throws TypeError and runs nothing', async (name) => {
    let outcome: unknown;
    try {
      outcome = await CASES[name](spoil);
    } catch (err) {
      outcome = err;
    }
    expect(outcome).toBeInstanceOf(TypeError);
    expect(String((outcome as Error).message)).toMatch(/resized or detached while the options were read/);
  });
});

test('scales that would poison the products are refused: zero, negative, infinite', () => {
  for (const scale of [0, -0.5, Infinity]) {
    expect(() => kernels.packInt8Weights(new Int8Array(K * N), K, N, { scales: new Float32Array([scale]) })).toThrow(RangeError);
    expect(() => kernels.packSparse(new Int8Array(K * N), K, N, { scales: new Float32Array([scale]) })).toThrow(RangeError);
  }
  expect(() => kernels.quantParams(new Float32Array([Infinity, -Infinity]))).toThrow(RangeError);
});
