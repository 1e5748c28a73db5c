import {
  bfloat16ToFloat32, byteLengthOf, DataType, dtypeInfo, dtypeOfArray, float16ToFloat32, float32ToBfloat16,
  float32ToFloat16, packBits, packInt4, packUint4, unpackBits, unpackInt4, unpackUint4, createRandom,
} from '../../lib/onnx';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const floatFromBits = (bits: number): number => { u32[0] = bits; return f32[0]; };

/** Reference: nearest representable value among sorted candidates, ties to the even bit pattern. */
function nearestEven(value: number, lowBits: number, low: number, highBits: number, high: number): number {
  const dLow = value - low;
  const dHigh = high - value;
  if (dLow < dHigh) return lowBits;
  if (dHigh < dLow) return highBits;
  return (lowBits & 1) === 0 ? lowBits : highBits;
}

// All non-negative finite halves in increasing order (bit order == value order for positives).
const halfValues = float16ToFloat32(Uint16Array.from({ length: 0x7c01 }, (_, i) => i));

function referenceHalf(value: number): number {
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const a = Math.abs(value);
  if (Number.isNaN(value)) return 0x7e00;
  if (a >= 65520) return sign | 0x7c00;
  let lo = 0;
  let hi = 0x7bff;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (halfValues[mid] <= a) lo = mid; else hi = mid - 1;
  }
  if (halfValues[lo] === a || lo === 0x7bff) return sign | lo;
  return sign | nearestEven(a, lo, halfValues[lo], lo + 1, halfValues[lo + 1]);
}

describe('float16', () => {
  test('every half survives half -> float -> half', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const back = float32ToFloat16(float16ToFloat32(all));
    for (let i = 0; i < 65536; i++) {
      const isNaN = (i & 0x7c00) === 0x7c00 && (i & 0x3ff) !== 0;
      if (isNaN) expect((back[i] & 0x7c00) === 0x7c00 && (back[i] & 0x3ff) !== 0).toBe(true);
      else if (back[i] !== i) throw new Error(`half 0x${i.toString(16)} came back as 0x${back[i].toString(16)}`);
    }
  });

  test('known values', () => {
    expect(Array.from(float32ToFloat16([1, -2, 0.5, 65504, 65519.99, 65520, Infinity, -Infinity, 0, -0, 2 ** -24, 2 ** -25, 3 * 2 ** -26, 1.5 * 2 ** -24])))
      .toEqual([0x3c00, 0xc000, 0x3800, 0x7bff, 0x7bff, 0x7c00, 0x7c00, 0xfc00, 0, 0x8000, 1, 0, 1, 2]);
    expect(Array.from(float16ToFloat32(Uint16Array.of(0x3c00, 0x0001, 0x7c00, 0xfbff))))
      .toEqual([1, 2 ** -24, Infinity, -65504]);
    expect(Number.isNaN(float16ToFloat32(Uint16Array.of(0x7e00))[0])).toBe(true);
    expect(Number.isNaN(float16ToFloat32(float32ToFloat16([NaN]))[0])).toBe(true);
  });

  test('rounds to nearest even like an exact reference, on random and halfway floats', () => {
    const next = createRandom(9);
    const values: number[] = [];
    for (let i = 0; i < 20000; i++) {
      values.push(floatFromBits(Math.floor(next() * 0x48000000) | (next() < 0.5 ? 0x80000000 : 0)));
    }
    for (let h = 0; h < 0x7bff; h += 7) values.push((halfValues[h] + halfValues[h + 1]) / 2); // exact ties
    const got = float32ToFloat16(Float32Array.from(values));
    values.forEach((v, i) => {
      const want = referenceHalf(Math.fround(v));
      if (got[i] !== want) throw new Error(`${v}: got 0x${got[i].toString(16)}, want 0x${want.toString(16)}`);
    });
  });
});

describe('bfloat16', () => {
  function referenceBf16(value: number): number {
    f32[0] = value;
    const bits = u32[0];
    if (Number.isNaN(f32[0])) return -1;
    const low = bits >>> 16;
    const high = low + 1;
    const lowValue = floatFromBits((low << 16) >>> 0);
    // Past the largest finite value, IEEE rounding compares against 2^128, which then becomes infinity.
    const highValue = (low & 0x7fff) === 0x7f7f ? 2 ** 128 : floatFromBits((high << 16) >>> 0);
    f32[0] = value;
    const a = Math.abs(f32[0]);
    if (a === Math.abs(lowValue) || !Number.isFinite(lowValue)) return low;
    return nearestEven(a, low, Math.abs(lowValue), high & 0xffff, Math.abs(highValue));
  }

  test('matches an exact reference and round-trips all bfloat16 values', () => {
    const next = createRandom(3);
    const values = Float32Array.from({ length: 20000 }, () => floatFromBits((next() * 2 ** 32) >>> 0));
    const got = float32ToBfloat16(values);
    values.forEach((v, i) => {
      if (Number.isNaN(v)) expect(Number.isNaN(bfloat16ToFloat32(got.subarray(i, i + 1))[0])).toBe(true);
      else if (got[i] !== referenceBf16(v)) throw new Error(`${v}: got ${got[i]}, want ${referenceBf16(v)}`);
    });
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i).filter((b) => (b & 0x7f80) !== 0x7f80 || (b & 0x7f) === 0);
    expect(float32ToBfloat16(bfloat16ToFloat32(all))).toEqual(all);
    expect(Array.from(float32ToBfloat16([1, -2, 1 + 2 ** -8, 1 + 3 * 2 ** -8]))).toEqual([0x3f80, 0xc000, 0x3f80, 0x3f82]);
  });
});

describe('packed 4- and 2-bit integers', () => {
  test('int4 / uint4 pack low nibble first', () => {
    expect(Array.from(packInt4([1, -1, 7]))).toEqual([0xf1, 0x07]);
    expect(Array.from(unpackInt4(Uint8Array.of(0xf1, 0x07), 3))).toEqual([1, -1, 7]);
    expect(Array.from(packUint4([15, 0, 3]))).toEqual([0x0f, 0x03]);
    expect(Array.from(unpackUint4(Uint8Array.of(0x0f, 0x03), 4))).toEqual([15, 0, 3, 0]);
    expect(() => packInt4([8])).toThrow(RangeError);
    expect(() => unpackInt4(Uint8Array.of(1), 3)).toThrow(RangeError);
  });

  test('int2 / uint2 pack four per byte', () => {
    expect(Array.from(packBits([0, 1, -2, -1, 1], 2, true))).toEqual([0b11100100, 0b01]);
    expect(Array.from(unpackBits(Uint8Array.of(0b11100100), 4, 2, true))).toEqual([0, 1, -2, -1]);
    expect(Array.from(unpackBits(Uint8Array.of(0b11100100), 4, 2, false))).toEqual([0, 1, 2, 3]);
  });
});

describe('dtype table', () => {
  test('names, enums, aliases, sizes and onnxruntime types agree', () => {
    expect(dtypeInfo('float32')).toMatchObject({ dataType: DataType.FLOAT, bits: 32, ortType: 'float32' });
    expect(dtypeInfo(DataType.FLOAT16).name).toBe('float16');
    expect(dtypeInfo('half').name).toBe('float16');
    expect(dtypeInfo('bfloat16').ortType).toBeUndefined();
    expect(dtypeInfo('int4').array).toBe(Uint8Array);
    expect(dtypeInfo(DataType.FLOAT4E2M1).name).toBe('float4e2m1');
    expect(byteLengthOf('int4', 3)).toBe(2);
    expect(byteLengthOf('uint2', 5)).toBe(2);
    expect(byteLengthOf('complex64', 2)).toBe(16);
    expect(byteLengthOf('int64', 3)).toBe(24);
    expect(dtypeOfArray(new BigInt64Array(1))).toBe('int64');
    expect(() => dtypeInfo('float7')).toThrow(/unknown ONNX element type/);
    expect(() => dtypeInfo(99)).toThrow(RangeError);
  });
});
