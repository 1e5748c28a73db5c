// One quantization arithmetic (native/include/quant_rules.h): the model passes' TypeScript
// (lib/quantize/quant-math.ts) and the native kernels (kernels.quantize / quantParams /
// dequantize, on every ISA path) meet on edge values and must agree exactly: ties at .5, ±0,
// huge, tiny and denormal values, NaN, ±Infinity, zero and constant ranges, int8 and uint8,
// symmetric and asymmetric, per tensor and per channel.
import type { QuantParams } from '../../binding';
import { kernels } from '../../lib/kernels';
import { dequantizeTensor, quantizeTensor, quantizeValue, type QuantType } from '../../lib/quantize/quant-math';
import { type CallCase, isaRuns, runChild } from '../kernels/int8-isa';

const FLT_MAX = 3.4028234663852886e38;
const TYPES: QuantType[] = ['uint8', 'int8'];

/** Values around every rule's edges; repeated past 32 so the vector kernels see full vectors and a tail. */
const EDGES = Float32Array.of(
  0, -0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 126.5, 127.5, -127.5, -128.5, 254.5, 255.5, 1e-45, -1e-45,
  1e-38, -3e-39, 1e30, -1e30, FLT_MAX, -FLT_MAX, NaN, Infinity, -Infinity, 0.49999997, 3.4, -7.75,
);
const repeated = (values: Float32Array, length: number) => Float32Array.from({ length }, (_, i) => values[i % values.length]);

/** Data sets for choosing parameters: the range's edge cases (finite ones first). */
const RANGES: Record<string, Float32Array> = {
  zeros: new Float32Array(37),
  'negative zeros': new Float32Array(37).fill(-0),
  empty: new Float32Array(0),
  'all NaN': new Float32Array(19).fill(NaN),
  'constant 5': new Float32Array(40).fill(5),
  'constant -3': new Float32Array(40).fill(-3),
  denormal: Float32Array.of(1e-40, -2e-42, 0),
  'tiny normal': Float32Array.of(1e-35, 3e-36, -1e-36),
  huge: Float32Array.of(FLT_MAX / 2, 1, -0.5),
  // Asymmetric zero points that land on .5 before rounding: 2.5 and 3.5 (uint8), -125.5, -124.5 (int8).
  'zero point tie 2.5': Float32Array.of(-0.3125, 31.5625, 3, -0.125),
  'zero point tie 3.5': Float32Array.of(-0.4375, 31.4375, 7, 0),
  'NaN among values': Float32Array.of(NaN, 1, -2, NaN, 0.75),
  edges: Float32Array.from(EDGES.filter(Number.isFinite).filter((v) => Math.abs(v) < 1e29)),
  mixed: Float32Array.from({ length: 67 }, (_, i) => Math.sin(i * 1.7) * (i % 5 === 0 ? 40 : 3)),
};
/** Data with no finite scale: both sides refuse it with a RangeError. */
const NON_FINITE: Record<string, Float32Array> = {
  '+Infinity': Float32Array.of(1, Infinity, 2),
  '-Infinity only': new Float32Array(20).fill(-Infinity),
  '±FLT_MAX (the width overflows float32)': Float32Array.of(-FLT_MAX, FLT_MAX),
};

interface Params { scale: number; zeroPoint: number }

function nativeParams(x: Float32Array, dtype: QuantType, symmetric: boolean): Params {
  const p = kernels.quantParams(x, { dtype, symmetric });
  return { scale: p.scale[0], zeroPoint: p.zeroPoint[0] };
}

function zeroPointArray(type: QuantType, values: number[]): Uint8Array | Int8Array {
  return type === 'uint8' ? Uint8Array.from(values) : Int8Array.from(values);
}

describe('rule 1: quantize one value', () => {
  const scales = [1, 0.25, 0.125, 0.1, 3e-3, 1e-20, 1e20].map(Math.fround);
  const zeroPoints: Record<QuantType, number[]> = { uint8: [0, 3, 128, 255], int8: [-128, -3, 0, 127] };
  test.each(TYPES)('%s: round half to even, saturate, NaN to the zero point, on both sides', (type) => {
    for (const scale of scales) {
      // Exact ties for this scale: (k + 0.5) * scale.
      const ties = Float32Array.from({ length: 16 }, (_, i) => (i - 8 + 0.5) * scale);
      const x = Float32Array.from([...EDGES, ...ties]);
      for (const zeroPoint of zeroPoints[type]) {
        const want = Array.from(x, (v) => quantizeValue(v, scale, zeroPoint, type));
        const got = Array.from(kernels.quantize(x, { scale, zeroPoint, dtype: type }));
        expect({ scale, zeroPoint, q: got }).toEqual({ scale, zeroPoint, q: want });
      }
    }
  });
});

describe('rule 3: parameters from data', () => {
  describe.each(TYPES)('%s', (type) => {
    test.each([false, true])('symmetric %p: scale, zero point and values equal on edge ranges', (symmetric) => {
      for (const [name, x] of Object.entries(RANGES)) {
        const ts = quantizeTensor(x, [x.length], { type, symmetric });
        const params = nativeParams(x, type, symmetric);
        const q = kernels.quantize(x, { scale: params.scale, zeroPoint: zeroPointArray(type, [params.zeroPoint]) });
        expect({ name, scale: params.scale, zeroPoint: params.zeroPoint, q: Array.from(q) })
          .toEqual({ name, scale: ts.scales[0], zeroPoint: ts.zeroPoints[0], q: Array.from(ts.data) });
      }
    });

    test.each([false, true])('symmetric %p: a range without a finite scale is a RangeError on both sides', (symmetric) => {
      for (const x of Object.values(NON_FINITE)) {
        expect(() => quantizeTensor(x, [x.length], { type, symmetric })).toThrow(RangeError);
        expect(() => kernels.quantParams(x, { dtype: type, symmetric })).toThrow(/not finite/);
      }
    });
  });

  test('the zero point of a range that maps 0 to a .5 rounds half to even', () => {
    expect(nativeParams(RANGES['zero point tie 2.5'], 'uint8', false)).toEqual({ scale: 0.125, zeroPoint: 2 });
    expect(nativeParams(RANGES['zero point tie 3.5'], 'uint8', false)).toEqual({ scale: 0.125, zeroPoint: 4 });
    expect(nativeParams(RANGES['zero point tie 2.5'], 'int8', false)).toEqual({ scale: 0.125, zeroPoint: -126 });
  });

  test('zero, NaN-only and denormal ranges give scale 1 and zero point 0 (symmetric uint8 too)', () => {
    for (const name of ['zeros', 'negative zeros', 'empty', 'all NaN', 'denormal']) {
      for (const type of TYPES) {
        for (const symmetric of [false, true]) {
          expect({ name, ...nativeParams(RANGES[name], type, symmetric) }).toEqual({ name, scale: 1, zeroPoint: 0 });
        }
      }
    }
  });

  test.each(TYPES)('%s per channel: each channel by itself, the same on both sides', (type) => {
    const dims = [4, 5];
    // Channels along axis 1: a zero column, a constant one, a tie one, a NaN-holding one, a mixed one.
    const columns = [[0, 0, 0, 0], [5, 5, 5, 5], [-0.3125, 31.5625, 3, 0], [NaN, 1, -2, 0.5], [-4, 9, 0.25, -0.5]];
    const x = Float32Array.from({ length: 20 }, (_, i) => columns[i % 5][Math.floor(i / 5)]);
    for (const symmetric of [false, true]) {
      const ts = quantizeTensor(x, dims, { type, symmetric, axis: 1 });
      const p: QuantParams = kernels.quantParams(x, { dtype: type, symmetric, axis: 1, shape: dims });
      const q = kernels.quantize(x, { scale: p.scale, zeroPoint: p.zeroPoint as Uint8Array | Int8Array, axis: 1, shape: dims });
      expect({ scale: Array.from(p.scale), zeroPoint: Array.from(p.zeroPoint), q: Array.from(q) })
        .toEqual({ scale: Array.from(ts.scales), zeroPoint: Array.from(ts.zeroPoints), q: Array.from(ts.data) });
    }
    const withInfinity = Float32Array.from(x, (v, i) => (i === 7 ? Infinity : v));
    expect(() => quantizeTensor(withInfinity, dims, { type, symmetric: false, axis: 1 })).toThrow(RangeError);
    expect(() => kernels.quantParams(withInfinity, { dtype: type, axis: 1, shape: dims })).toThrow(/channel 2 is not finite/);
  });
});

describe('rule 2: dequantize', () => {
  test.each(TYPES)('%s: (q - zeroPoint) * scale in float32 on both sides', (type) => {
    const x = repeated(RANGES.mixed, 90);
    const ts = quantizeTensor(x, [9, 10], { type, symmetric: false, axis: 0 });
    const got = kernels.dequantize(ts.data, { scale: ts.scales, zeroPoint: ts.zeroPoints, axis: 0, shape: [9, 10] });
    expect(Array.from(got)).toEqual(Array.from(dequantizeTensor(ts)));
  });
});

// The same rules on every ISA path's vector kernels (one child process per path).
const { runs, skipped } = isaRuns();
const finiteRanges = Object.entries(RANGES).filter(([, x]) => x.length > 0);
const isaCalls: CallCase[] = [];
for (const type of TYPES) {
  for (const [scale, zeroPoint] of [[1, type === 'uint8' ? 128 : 0], [Math.fround(0.125), type === 'uint8' ? 3 : -3]]) {
    isaCalls.push({ call: 'quantize', args: [repeated(EDGES, 45), { scale, zeroPoint, dtype: type }] });
  }
  for (const symmetric of [false, true]) {
    for (const [, x] of finiteRanges) isaCalls.push({ call: 'quantParams', args: [repeated(x, 41), { dtype: type, symmetric }] });
  }
}

describe.each(runs.map((run) => [run.label, run] as const))('every rule on ISA %s', (_label, run) => {
  test('the vector kernels give what quant-math.ts gives', () => {
    const child = runChild(run, isaCalls);
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    isaCalls.forEach((c, i) => {
      const [x, opts] = c.args as [Float32Array, { scale?: number; zeroPoint?: number; dtype: QuantType; symmetric?: boolean }];
      const got = child.results![i].value;
      if (c.call === 'quantize') {
        expect(Array.from(got as Uint8Array)).toEqual(Array.from(x, (v) => quantizeValue(v, opts.scale!, opts.zeroPoint!, opts.dtype)));
      } else {
        const ts = quantizeTensor(x, [x.length], { type: opts.dtype, symmetric: opts.symmetric! });
        const p = got as QuantParams;
        expect([p.scale[0], p.zeroPoint[0]]).toEqual([ts.scales[0], ts.zeroPoints[0]]);
      }
    });
  });
});

for (const reason of skipped) test.skip(`quantization rules, ISA ${reason}`, () => undefined);
