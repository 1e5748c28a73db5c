// Eval-mode BatchNormalization parameters for the conv look-alikes, and folding them into the conv
// before them, as torch.onnx.export does in eval mode (so 'folded' and 'separate' models compute the
// same function from the same raw weights).
import { randomNormal, randomUniform } from '../random';
import { seedStream } from './weights';

/** torch's BatchNorm2d default. */
export const BATCH_NORM_EPSILON = 1e-5;

export interface BatchNormParams {
  scale: Float32Array;
  shift: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
}

/**
 * Parameters of a trained-looking BatchNorm: every one away from its identity value, so a runtime
 * that drops one gives a different answer, yet scale / sqrt(variance) stays within [0.5, 2] * `gain`.
 */
export function randomBatchNorm(channels: number, seed: number, gain = 1): BatchNormParams {
  const next = seedStream(seed);
  const scale = randomUniform(channels, next(), 0.75 * gain, 1.25 * gain);
  return {
    scale,
    shift: randomNormal(channels, next(), 0.1),
    mean: randomNormal(channels, next(), 0.1),
    variance: randomUniform(channels, next(), 0.6, 1.6),
  };
}

/**
 * A BatchNorm whose running statistics are those measured on its input (per-channel `mean`, pooled
 * `variance`), as training leaves them, with a scale near `std` and a shift near 0: its output per
 * channel has about that std on data like the measured.
 */
export function measuredBatchNorm(mean: Float32Array, variance: number, seed: number, std: number): BatchNormParams {
  const next = seedStream(seed);
  const channels = mean.length;
  return {
    scale: randomUniform(channels, next(), 0.75 * std, 1.25 * std),
    shift: randomNormal(channels, next(), 0.1 * std),
    mean,
    variance: new Float32Array(channels).fill(variance),
  };
}

/** Conv weights [outChannels, ...] and BatchNorm folded into one weight and bias (the conv has no bias). */
export function foldBatchNorm(weight: Float32Array, bn: BatchNormParams): { weight: Float32Array; bias: Float32Array } {
  const channels = bn.scale.length;
  const perChannel = weight.length / channels;
  const folded = new Float32Array(weight.length);
  const bias = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const factor = bn.scale[c] / Math.sqrt(bn.variance[c] + BATCH_NORM_EPSILON);
    for (let i = c * perChannel; i < (c + 1) * perChannel; i++) folded[i] = weight[i] * factor;
    bias[c] = bn.shift[c] - bn.mean[c] * factor;
  }
  return { weight: folded, bias };
}
