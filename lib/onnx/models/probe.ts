// A float forward pass over a small probe batch for the few 2-D ops MobileNetV3 is built from, so its
// builder can set BatchNorm running statistics from the values each conv actually produces, as training
// does, instead of guessing them (random weights through hard-swish and squeeze-excite otherwise drift
// in scale from seed to seed).
import { convOutputSize, type ConvShape } from './conv-geometry';

// Looked up once: a global `Math` lookup per value is slow in a vm realm (jest).
const { ceil, floor, max, min, sqrt } = Math;

/** NCHW values of the probe batch. */
export interface Probe {
  data: Float32Array;
  batch: number;
  channels: number;
  size: readonly number[];
}

const planeOf = (p: Probe): number => p.size.reduce((a, b) => a * b, 1);

/** Conv without bias: weights [outChannels, inChannels / group, kh, kw]. */
export function probeConv(x: Probe, weight: Float32Array, shape: ConvShape): Probe {
  const { inChannels, outChannels, kernel: [kh, kw], stride = 1, pad = 0, dilation = 1, group = 1 } = shape;
  const [h, w] = x.size;
  const size = convOutputSize({ ...shape, input: x.size });
  const [oh, ow] = size;
  const groupIn = inChannels / group;
  const groupOut = outChannels / group;
  const out = new Float32Array(x.batch * outChannels * oh * ow);
  const input = x.data;
  // Per kernel column, the output columns whose input column lies inside the image: the inner loop needs no check.
  const offsets = Array.from({ length: kw }, (_, kx) => kx * dilation - pad);
  const firsts = offsets.map((offset) => max(0, ceil(-offset / stride)));
  const ends = offsets.map((offset) => min(ow, floor((w - 1 - offset) / stride) + 1));
  for (let n = 0; n < x.batch; n++) {
    for (let oc = 0; oc < outChannels; oc++) {
      const outBase = (n * outChannels + oc) * oh * ow;
      for (let ic = 0; ic < groupIn; ic++) {
        const inBase = (n * inChannels + floor(oc / groupOut) * groupIn + ic) * h * w;
        for (let ky = 0; ky < kh; ky++) {
          for (let kx = 0; kx < kw; kx++) {
            const tap = weight[((oc * groupIn + ic) * kh + ky) * kw + kx];
            const first = firsts[kx];
            const end = ends[kx];
            for (let oy = 0; oy < oh; oy++) {
              const iy = oy * stride - pad + ky * dilation;
              if (iy < 0 || iy >= h) continue;
              const row = outBase + oy * ow;
              const inRow = inBase + iy * w + offsets[kx];
              for (let ox = first; ox < end; ox++) out[row + ox] += tap * input[inRow + ox * stride];
            }
          }
        }
      }
    }
  }
  return { data: out, batch: x.batch, channels: outChannels, size };
}

/**
 * Per-channel mean over the batch and positions, and one variance pooled over the channels: on the
 * 1x1 maps of small inputs a channel's own variance rests on a handful of values.
 */
export function probeStatistics(x: Probe): { mean: Float32Array; variance: number } {
  const plane = planeOf(x);
  const mean = new Float32Array(x.channels);
  for (let n = 0; n < x.batch; n++) {
    for (let c = 0; c < x.channels; c++) {
      for (let i = 0; i < plane; i++) mean[c] += x.data[(n * x.channels + c) * plane + i];
    }
  }
  for (let c = 0; c < x.channels; c++) mean[c] /= x.batch * plane;
  let square = 0;
  for (let n = 0; n < x.batch; n++) {
    for (let c = 0; c < x.channels; c++) {
      for (let i = 0; i < plane; i++) square += (x.data[(n * x.channels + c) * plane + i] - mean[c]) ** 2;
    }
  }
  return { mean, variance: square / x.data.length };
}

/** y = scale[c] * x + shift[c]. */
export function probeAffine(x: Probe, scale: Float32Array, shift: Float32Array): Probe {
  const plane = planeOf(x);
  const data = x.data.map((v, i) => {
    const c = floor(i / plane) % x.channels;
    return scale[c] * v + shift[c];
  });
  return { ...x, data };
}

export function probeMap(x: Probe, f: (v: number) => number): Probe {
  return { ...x, data: x.data.map(f) };
}

/** GlobalAveragePool: [batch, channels, 1, 1]. */
export function probeGlobalAverage(x: Probe): Probe {
  const plane = planeOf(x);
  const data = new Float32Array(x.batch * x.channels);
  for (let i = 0; i < data.length; i++) {
    let sum = 0;
    for (let j = 0; j < plane; j++) sum += x.data[i * plane + j];
    data[i] = sum / plane;
  }
  return { data, batch: x.batch, channels: x.channels, size: x.size.map(() => 1) };
}

/** x times a [batch, channels, 1, 1] gate. */
export function probeScaleChannels(x: Probe, gate: Probe): Probe {
  const plane = planeOf(x);
  return { ...x, data: x.data.map((v, i) => v * gate.data[floor(i / plane)]) };
}

export function probeAdd(a: Probe, b: Probe): Probe {
  return { ...a, data: a.data.map((v, i) => v + b.data[i]) };
}

/** Root mean square of all values. */
export function probeRms(x: Probe): number {
  let square = 0;
  for (const v of x.data) square += v * v;
  return sqrt(square / x.data.length);
}

export const relu = (v: number): number => (v > 0 ? v : 0);
export const hardSigmoid = (v: number): number => min(1, max(0, v / 6 + 0.5));
export const hardSwish = (v: number): number => v * hardSigmoid(v);
