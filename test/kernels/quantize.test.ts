// quantize / dequantize / quantParams against ONNX's rules written out in JS,
// per tensor and per axis, on every ISA path (one child process each).
import { kernels } from '../../lib/kernels';
import { CallCase, isaRuns, runChild } from './int8-isa';
import { quantizeOne, randomFloats, randomInts, rng } from './int8-reference';
import { skipTest } from '../helpers/skip';

type Layout = { outer: number; channels: number; inner: number };

function layoutOf(count: number, shape?: number[], axis?: number): Layout {
  if (axis === undefined || !shape) return { outer: 1, channels: 1, inner: count };
  const a = axis < 0 ? axis + shape.length : axis;
  const prod = (dims: number[]) => dims.reduce((p, d) => p * d, 1);
  return { outer: prod(shape.slice(0, a)), channels: shape[a], inner: prod(shape.slice(a + 1)) };
}

function channelOf(i: number, l: Layout): number {
  return Math.floor(i / l.inner) % l.channels;
}

function pick(values: number | ArrayLike<number> | undefined, c: number, fallback = 0): number {
  if (values === undefined) return fallback;
  if (typeof values === 'number') return values;
  return values.length === 1 ? values[0] : values[c];
}

interface QuantizeCase { x: Float32Array; opts: { scale: number | Float32Array; zeroPoint?: number | Uint8Array | Int8Array; dtype?: 'uint8' | 'int8'; axis?: number; shape?: number[] } }

function quantizeRef({ x, opts }: QuantizeCase): Int32Array {
  const signed = opts.dtype === 'int8' || opts.zeroPoint instanceof Int8Array;
  const l = layoutOf(x.length, opts.shape, opts.axis);
  return Int32Array.from(x, (v, i) => {
    const c = channelOf(i, l);
    return quantizeOne(v, Math.fround(pick(opts.scale, c)), pick(opts.zeroPoint, c), signed ? -128 : 0, signed ? 127 : 255);
  });
}

interface DequantizeCase { q: Uint8Array | Int8Array | Int32Array; opts: { scale: number | Float32Array; zeroPoint?: number | Uint8Array | Int8Array; axis?: number; shape?: number[] } }

function dequantizeRef({ q, opts }: DequantizeCase): Float32Array {
  const l = layoutOf(q.length, opts.shape, opts.axis);
  return Float32Array.from(q as ArrayLike<number>, (v, i) => {
    const c = channelOf(i, l);
    // (q - zeroPoint) becomes float32 first, as in ONNX DequantizeLinear.
    return Math.fround(Math.fround(v - pick(opts.zeroPoint, c)) * Math.fround(pick(opts.scale, c)));
  });
}

/** onnxruntime.quantization's compute_scale_zp, in float32. */
function quantParamsRef(x: Float32Array, symmetric: boolean, dtype: 'uint8' | 'int8', shape?: number[], axis?: number) {
  const l = layoutOf(x.length, shape, axis);
  const lo = new Array(l.channels).fill(0);
  const hi = new Array(l.channels).fill(0);
  x.forEach((v, i) => {
    const c = channelOf(i, l);
    lo[c] = Math.min(lo[c], v);
    hi[c] = Math.max(hi[c], v);
  });
  const [qmin, qmax] = dtype === 'uint8' ? [0, 255] : [symmetric ? -127 : -128, 127];
  const scale: number[] = [];
  const zeroPoint: number[] = [];
  for (let c = 0; c < l.channels; c++) {
    let rmin = lo[c];
    let rmax = hi[c];
    if (symmetric) {
      const absmax = Math.max(Math.abs(rmin), Math.abs(rmax));
      rmin = -absmax;
      rmax = absmax;
    }
    const s = Math.fround(Math.fround(rmax - rmin) / (qmax - qmin));
    if (!(s >= 1.17549435e-38)) {
      scale.push(1);
      zeroPoint.push(0);
      continue;
    }
    const zp = symmetric ? (qmin + qmax) / 2 : Math.fround(qmin - Math.fround(rmin / s));
    const clamped = Math.min(Math.max(zp, qmin), qmax);
    const r = Math.round(clamped);
    scale.push(s);
    zeroPoint.push((Math.abs(clamped % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r) + 0);  // + 0: no -0
  }
  return { scale, zeroPoint };
}

const rand = rng(11);
const shape3 = [5, 7, 33];
const x3 = randomFloats(5 * 7 * 33, 4, rand);
const halves = Float32Array.of(0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 1000, -1000, NaN, 127.49, 127.5, -128.5, 0);

const quantizeCases: QuantizeCase[] = [
  { x: halves, opts: { scale: 1 } },
  { x: halves, opts: { scale: 1, zeroPoint: 3, dtype: 'int8' } },
  { x: halves, opts: { scale: 1, zeroPoint: 128 } },
  { x: x3, opts: { scale: 0.03, zeroPoint: 17 } },
  { x: x3, opts: { scale: 0.02, zeroPoint: Int8Array.of(-5) } },
  { x: x3, opts: { scale: Float32Array.from({ length: 7 }, (_, i) => 0.01 * (i + 1)), zeroPoint: randomInts(Uint8Array, 7, 0, 255, rand), axis: 1, shape: shape3 } },
  { x: x3, opts: { scale: Float32Array.from({ length: 33 }, (_, i) => 0.005 * (i + 1)), zeroPoint: randomInts(Int8Array, 33, -128, 127, rand), axis: -1, shape: shape3 } },
  { x: x3, opts: { scale: Float32Array.from({ length: 5 }, (_, i) => 0.02 * (i + 1)), dtype: 'int8', axis: 0, shape: shape3 } },
];

const dequantizeCases: DequantizeCase[] = [
  { q: randomInts(Uint8Array, 1000, 0, 255, rand), opts: { scale: 0.1, zeroPoint: 128 } },
  { q: randomInts(Int8Array, 1000, -128, 127, rand), opts: { scale: 0.07, zeroPoint: -3 } },
  { q: Int32Array.from({ length: 77 }, () => Math.floor((rand() - 0.5) * 2 ** 31)), opts: { scale: 1e-3 } },
  { q: randomInts(Int8Array, 5 * 7 * 33, -128, 127, rand), opts: { scale: Float32Array.from({ length: 7 }, (_, i) => i + 0.5), zeroPoint: randomInts(Int8Array, 7, -128, 127, rand), axis: 1, shape: shape3 } },
  { q: randomInts(Uint8Array, 5 * 7 * 33, 0, 255, rand), opts: { scale: Float32Array.from({ length: 33 }, (_, i) => 1 / (i + 1)), zeroPoint: randomInts(Uint8Array, 33, 0, 255, rand), axis: 2, shape: shape3 } },
];

const paramCases: { x: Float32Array; symmetric: boolean; dtype: 'uint8' | 'int8'; shape?: number[]; axis?: number }[] = [];
for (const symmetric of [false, true]) {
  for (const dtype of ['uint8', 'int8'] as const) {
    paramCases.push({ x: x3, symmetric, dtype });
    paramCases.push({ x: x3, symmetric, dtype, shape: shape3, axis: 1 });
    paramCases.push({ x: x3, symmetric, dtype, shape: shape3, axis: 2 });
    paramCases.push({ x: Float32Array.from(x3, Math.abs), symmetric, dtype, shape: shape3, axis: 0 });
  }
}
paramCases.push({ x: new Float32Array(40), symmetric: false, dtype: 'uint8' });

const calls: CallCase[] = [
  ...quantizeCases.map((c) => ({ call: 'quantize' as const, args: [c.x, c.opts] })),
  ...dequantizeCases.map((c) => ({ call: 'dequantize' as const, args: [c.q, c.opts] })),
  ...paramCases.map((c) => ({ call: 'quantParams' as const, args: [c.x, { symmetric: c.symmetric, dtype: c.dtype, shape: c.shape, axis: c.axis }] })),
];

describe('quantize rules', () => {
  test('round half to even, saturate, NaN to the zero point', () => {
    expect(Array.from(kernels.quantize(halves, { scale: 1 }))).toEqual([0, 2, 2, 0, 0, 0, 255, 0, 0, 127, 128, 0, 0]);
    expect(Array.from(kernels.quantize(halves, { scale: 1, dtype: 'int8' }))).toEqual([0, 2, 2, 0, -2, -2, 127, -128, 0, 127, 127, -128, 0]);
  });

  test('a typed zero point decides the output type', () => {
    expect(kernels.quantize(halves, { scale: 1, zeroPoint: Int8Array.of(0) })).toBeInstanceOf(Int8Array);
    expect(kernels.quantize(halves, { scale: 1, zeroPoint: Uint8Array.of(0) })).toBeInstanceOf(Uint8Array);
  });

  test('quantParams follows onnxruntime: symmetric int8 is [-127, 127] with zero point 0, symmetric uint8 has 128', () => {
    const x = Float32Array.of(-2, 1, 0.5);
    const s8 = kernels.quantParams(x, { symmetric: true, dtype: 'int8' });
    expect(s8.zeroPoint[0]).toBe(0);
    expect(s8.scale[0]).toBe(Math.fround(Math.fround(4) / 254));
    const u8 = kernels.quantParams(x, { symmetric: true });
    expect(u8.zeroPoint[0]).toBe(128);
    expect(u8.dtype).toBe('uint8');
    const zeros = kernels.quantParams(new Float32Array(5));
    expect([zeros.scale[0], zeros.zeroPoint[0]]).toEqual([1, 0]);
  });

  test('argument checks name the argument', () => {
    const x = new Float32Array(6);
    expect(() => kernels.quantize(new Float64Array(3) as unknown as Float32Array, { scale: 1 })).toThrow(TypeError);
    expect(() => kernels.quantize(x, { scale: 0 })).toThrow(/opts.scale values must be positive/);
    expect(() => kernels.quantize(x, { scale: 1, zeroPoint: 256 })).toThrow(RangeError);
    expect(() => kernels.quantize(x, { scale: 1, zeroPoint: 128, dtype: 'int8' })).toThrow(/opts.zeroPoint must be an integer in \[-128, 127\]/);
    expect(() => kernels.quantize(x, { scale: 1, dtype: 'int4' as 'int8' })).toThrow(/opts.dtype/);
    expect(() => kernels.quantize(x, { scale: Float32Array.of(1, 2), axis: 1 })).toThrow(/opts.shape .*required/);
    expect(() => kernels.quantize(x, { scale: Float32Array.of(1, 2), axis: 1, shape: [2, 4] })).toThrow(/opts.shape has 8 elements but the data has 6/);
    expect(() => kernels.quantize(x, { scale: Float32Array.of(1, 2), axis: 2, shape: [2, 3] })).toThrow(/opts.axis must be an integer in \[-2, 1\]/);
    expect(() => kernels.quantize(x, { scale: Float32Array.of(1, 2), axis: 1, shape: [2, 3] })).toThrow(/opts.scale has 2 values, expected 1 or 3/);
    expect(() => kernels.quantize(x, { scale: 1, shape: [2, -3], axis: 0 })).toThrow(/opts.shape\[1\]/);
    expect(() => kernels.quantize(x, { scale: 1, scales: 2 } as never)).toThrow(/unknown option 'scales'/);
    expect(() => kernels.dequantize(new Int32Array(3), { scale: 1, zeroPoint: 1 })).toThrow(/opts.zeroPoint must be an integer in \[0, 0\]/);
    expect(() => kernels.dequantize(new Uint8Array(3), { scale: 1, zeroPoint: Int8Array.of(1) })).toThrow(/opts.zeroPoint must be a Uint8Array, got Int8Array/);
    expect(() => kernels.quantParams(x, { symmetric: 'yes' as unknown as boolean })).toThrow(/opts.symmetric must be a boolean/);
    expect(() => (kernels.quantize as (...a: unknown[]) => unknown)(x)).toThrow(/expected 2 arguments/);
  });
});

const { runs, skipped } = isaRuns();

describe.each(runs.map((run) => [run.label, run] as const))('quantize kernels, ISA %s', (_label, run) => {
  const child = runChild(run, calls);

  test('quantize, dequantize and quantParams equal the ONNX rules', () => {
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    const values = child.results!.map((r) => r.value);
    let i = 0;
    for (const c of quantizeCases) {
      const got = values[i++] as Uint8Array | Int8Array;
      expect(got).toBeInstanceOf(c.opts.dtype === 'int8' || c.opts.zeroPoint instanceof Int8Array ? Int8Array : Uint8Array);
      expect(Array.from(got)).toEqual(Array.from(quantizeRef(c)));
    }
    for (const c of dequantizeCases) expect(values[i++]).toEqual(dequantizeRef(c));
    for (const c of paramCases) {
      const got = values[i++] as { scale: Float32Array; zeroPoint: Uint8Array | Int8Array };
      const want = quantParamsRef(c.x, c.symmetric, c.dtype, c.shape, c.axis);
      expect(Array.from(got.scale)).toEqual(want.scale);
      expect(Array.from(got.zeroPoint)).toEqual(want.zeroPoint);
    }
  });
});

for (const { isa, reason } of skipped) skipTest(`quantize kernels, ISA ${isa}`, reason);
