// Plain-JS references for the int8 kernels, and deterministic test data.

/** A small deterministic PRNG (the builder's mulberry32). */
export { createRandom as rng } from '../../lib/onnx/random';

export function randomInts<T extends Int8Array | Uint8Array>(make: new (n: number) => T, count: number, lo: number, hi: number, rand: () => number): T {
  const out = new make(count);
  for (let i = 0; i < count; i++) out[i] = lo + Math.floor(rand() * (hi - lo + 1));
  return out;
}

export function randomFloats(count: number, scale: number, rand: () => number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (rand() * 2 - 1) * scale;
  return out;
}

/** ONNX MatMulInteger on plain numbers: sum over k of (A - aZp) * (B - bZp), int32. */
export function matmulIntegerRef(
  a: Uint8Array | Int8Array, m: number, k: number, b: Int8Array, n: number,
  aZeroPoint: ArrayLike<number>, bZeroPoint: ArrayLike<number>,
): Int32Array {
  const out = new Int32Array(m * n);
  const row = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    row.fill(0);
    const za = aZeroPoint.length === 1 ? aZeroPoint[0] : aZeroPoint[i];
    for (let kk = 0; kk < k; kk++) {
      const av = a[i * k + kk] - za;
      if (av === 0) continue;
      const base = kk * n;
      for (let j = 0; j < n; j++) row[j] += av * (b[base + j] - (bZeroPoint.length === 1 ? bZeroPoint[0] : bZeroPoint[j]));
    }
    for (let j = 0; j < n; j++) out[i * n + j] = row[j] | 0;
  }
  return out;
}

/** Round half to even, as ONNX QuantizeLinear rounds. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The per-row parameters linearInt8 uses (ONNX DynamicQuantizeLinear, in float32). */
export function dynamicRowParams(row: Float32Array): { scale: number; zeroPoint: number } {
  let lo = 0;
  let hi = 0;
  for (const v of row) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const scale = Math.fround(Math.fround(hi - lo) / 255);
  // Scales below the smallest normal float32 (zero range, denormal rows) fall back too.
  if (!(scale >= 1.17549435e-38) || !Number.isFinite(scale)) return { scale: 1, zeroPoint: 0 };
  const zp = Math.fround(0 - Math.fround(lo / scale));
  return { scale, zeroPoint: roundHalfEven(Math.min(Math.max(zp, 0), 255)) };
}

/** ONNX QuantizeLinear of one value (x / scale in float32). */
export function quantizeOne(x: number, scale: number, zeroPoint: number, qmin: number, qmax: number): number {
  const v = Math.fround(x / scale);
  if (Number.isNaN(v)) return zeroPoint;
  return roundHalfEven(Math.min(Math.max(v, qmin - zeroPoint), qmax - zeroPoint)) + zeroPoint;
}

export interface LinearCase {
  x: Float32Array; m: number; k: number; b: Int8Array; n: number;
  scales: Float32Array; zeroPoints: Int8Array; bias?: Float32Array;
}

function perColumn(values: ArrayLike<number>, j: number): number {
  return values.length === 1 ? values[0] : values[j];
}

/**
 * What linearInt8 computes, replayed in JS: x quantized per row exactly as the
 * kernels do, the exact integer product, then float32 dequantization.
 */
export function linearQuantizedRef(c: LinearCase): Float64Array {
  const out = new Float64Array(c.m * c.n);
  for (let i = 0; i < c.m; i++) {
    const row = c.x.subarray(i * c.k, (i + 1) * c.k);
    const { scale, zeroPoint } = dynamicRowParams(row);
    const q = new Uint8Array(c.k);
    for (let kk = 0; kk < c.k; kk++) q[kk] = quantizeOne(row[kk], scale, zeroPoint, 0, 255);
    const prod = matmulIntegerRef(q, 1, c.k, c.b, c.n, [zeroPoint], c.zeroPoints);
    for (let j = 0; j < c.n; j++) {
      const s = Math.fround(scale * perColumn(c.scales, j));
      out[i * c.n + j] = Math.fround(prod[j]) * s + (c.bias ? c.bias[j] : 0);
    }
  }
  return out;
}

/**
 * The float64 Linear layer on unquantized x, and for each output the error one
 * quantization step of x can cause: step_i * sum_k |w[k][j]|.
 */
export function linearFloatRef(c: LinearCase): { y: Float64Array; step: Float64Array } {
  const y = new Float64Array(c.m * c.n);
  const step = new Float64Array(c.m * c.n);
  for (let i = 0; i < c.m; i++) {
    const { scale } = dynamicRowParams(c.x.subarray(i * c.k, (i + 1) * c.k));
    for (let j = 0; j < c.n; j++) {
      let sum = 0;
      let abs = 0;
      const sw = perColumn(c.scales, j);
      const zw = perColumn(c.zeroPoints, j);
      for (let kk = 0; kk < c.k; kk++) {
        const w = sw * (c.b[kk * c.n + j] - zw);
        sum += c.x[i * c.k + kk] * w;
        abs += Math.abs(w);
      }
      y[i * c.n + j] = sum + (c.bias ? c.bias[j] : 0);
      step[i * c.n + j] = scale * abs;
    }
  }
  return { y, step };
}
