// Scale/zero-point choice and linear quantization on typed arrays. The arithmetic follows the rules
// written once in native/include/quant_rules.h, which the native kernels follow too (float32 steps,
// round half to even, saturation, zero and non-finite ranges); test/quantize/quant-arithmetic.test.ts
// runs both on edge values.

export type QuantType = 'uint8' | 'int8';

export interface QuantRange {
  qmin: number;
  qmax: number;
}

/** Round half to even (numpy.round / std::nearbyint in the default rounding mode); ±Infinity stays. */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * The integer range used for a type. Symmetric int8 uses [-127, 127] so that zero sits in the middle;
 * reduceRange keeps one bit free (7-bit values) for CPUs whose u8s8 instructions saturate in int16.
 */
export function quantRange(type: QuantType, options: { symmetric?: boolean; reduceRange?: boolean } = {}): QuantRange {
  if (type === 'uint8') return options.reduceRange ? { qmin: 0, qmax: 127 } : { qmin: 0, qmax: 255 };
  if (options.reduceRange) return { qmin: -64, qmax: 64 };
  return options.symmetric ? { qmin: -127, qmax: 127 } : { qmin: -128, qmax: 127 };
}

export interface ScaleZeroPoint {
  scale: number;
  zeroPoint: number;
}

/** The smallest normal float32: smaller scales (a zero range, denormal data) become 1 (rule 3). */
const FLOAT32_MIN_NORMAL = 1.1754943508222875e-38;

/**
 * Scale and zero point that map [rmin, rmax] (float32 ends, widened to include 0 so that zero is exact)
 * onto [qmin, qmax]: quant_rules.h's rule 3, each step in float32. Symmetric: the range is
 * [-absmax, absmax] and the zero point the middle of the integer range. A range whose scale is not
 * finite (an infinite end, or wider than float32 holds) has no parameters: RangeError.
 */
export function scaleZeroPoint(rmin: number, rmax: number, range: QuantRange, symmetric: boolean): ScaleZeroPoint {
  let lo = Math.fround(Math.min(rmin, 0));
  let hi = Math.fround(Math.max(rmax, 0));
  if (symmetric) {
    hi = Math.max(-lo, hi);
    lo = -hi;
  }
  const scale = Math.fround(Math.fround(hi - lo) / (range.qmax - range.qmin));
  if (!Number.isFinite(scale)) throw new RangeError(`cannot quantize the range [${rmin}, ${rmax}]: its scale is not a finite float32`);
  if (scale < FLOAT32_MIN_NORMAL) return { scale: 1, zeroPoint: 0 };
  if (symmetric) return { scale, zeroPoint: roundHalfEven((range.qmin + range.qmax) / 2) };
  const zeroPoint = Math.fround(range.qmin - Math.fround(lo / scale));
  return { scale, zeroPoint: roundHalfEven(Math.min(range.qmax, Math.max(range.qmin, zeroPoint))) };
}

/** One value (rule 1): round(x / scale) + zeroPoint saturated to the type (not to a reduced range); NaN gives zeroPoint. */
export function quantizeValue(x: number, scale: number, zeroPoint: number, type: QuantType): number {
  const v = Math.fround(x / scale);
  if (Number.isNaN(v)) return zeroPoint;
  const [lo, hi] = type === 'uint8' ? [0, 255] : [-128, 127];
  const q = roundHalfEven(v) + zeroPoint;
  return q < lo ? lo : q > hi ? hi : q;
}

/** Min and max of a float array; [0, 0] when empty or all NaN. NaNs are ignored. */
export function minMax(data: Float32Array, start = 0, end = data.length, stride = 1): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = start; i < end; i += stride) {
    const v = data[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo > hi ? [0, 0] : [lo, hi];
}

/** A quantized tensor with its parameters: one per tensor, or one per channel of `axis`. */
export interface QuantizedTensor {
  data: Uint8Array | Int8Array;
  dims: number[];
  type: QuantType;
  /** null: per tensor. */
  axis: number | null;
  scales: Float32Array;
  zeroPoints: Uint8Array | Int8Array;
}

export interface TensorQuantOptions {
  type: QuantType;
  symmetric: boolean;
  reduceRange?: boolean;
  /** Quantize each slice along this axis with its own scale (per channel). */
  axis?: number | null;
}

/** Quantizes a float tensor per tensor or per channel, with parameters from its own min and max. */
export function quantizeTensor(data: Float32Array, dims: readonly number[], options: TensorQuantOptions): QuantizedTensor {
  const axis = options.axis ?? null;
  const range = quantRange(options.type, options);
  const out = options.type === 'uint8' ? new Uint8Array(data.length) : new Int8Array(data.length);
  const ZeroArray = options.type === 'uint8' ? Uint8Array : Int8Array;
  if (axis === null) {
    const [lo, hi] = minMax(data);
    const { scale, zeroPoint } = scaleZeroPoint(lo, hi, range, options.symmetric);
    for (let i = 0; i < data.length; i++) out[i] = quantizeValue(data[i], scale, zeroPoint, options.type);
    return { data: out, dims: [...dims], type: options.type, axis: null, scales: Float32Array.of(scale), zeroPoints: ZeroArray.of(zeroPoint) };
  }
  if (axis < 0 || axis >= dims.length) throw new RangeError(`axis ${axis} is outside a rank-${dims.length} tensor`);
  const channels = dims[axis];
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const scales = new Float32Array(channels);
  const zeroPoints = new ZeroArray(channels);
  for (let c = 0; c < channels; c++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let o = 0; o < outer; o++) {
      const base = (o * channels + c) * inner;
      const [a, b] = minMax(data, base, base + inner);
      if (a < lo) lo = a;
      if (b > hi) hi = b;
    }
    const { scale, zeroPoint } = scaleZeroPoint(lo, hi, range, options.symmetric);
    scales[c] = scale;
    zeroPoints[c] = zeroPoint;
    for (let o = 0; o < outer; o++) {
      const base = (o * channels + c) * inner;
      for (let i = base; i < base + inner; i++) out[i] = quantizeValue(data[i], scale, zeroPoint, options.type);
    }
  }
  return { data: out, dims: [...dims], type: options.type, axis, scales, zeroPoints };
}

/** (q - zeroPoint) * scale, per tensor or per channel; used to check results and to measure error. */
export function dequantizeTensor(q: QuantizedTensor): Float32Array {
  const out = new Float32Array(q.data.length);
  if (q.axis === null) {
    for (let i = 0; i < out.length; i++) out[i] = (q.data[i] - q.zeroPoints[0]) * q.scales[0];
    return out;
  }
  const channels = q.dims[q.axis];
  const inner = q.dims.slice(q.axis + 1).reduce((a, b) => a * b, 1);
  for (let i = 0; i < out.length; i++) {
    const c = Math.floor(i / inner) % channels;
    out[i] = (q.data[i] - q.zeroPoints[c]) * q.scales[c];
  }
  return out;
}

/** Row-major transpose of a 2-D float matrix [rows, cols] -> [cols, rows]. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}
