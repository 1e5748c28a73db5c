// Deterministic weight tensors for the ready-made models, scaled so activations stay near unit variance.
import { randomNormal } from '../random';

/** Stream of distinct seeds derived from one model seed, one per weight tensor. */
export function seedStream(seed: number): () => number {
  let n = 0;
  return () => (Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(++n, 0x85ebca6b)) >>> 0;
}

/** He-style init: std sqrt(gain / fanIn). */
export function heWeights(count: number, fanIn: number, seed: number, gain = 2): Float32Array {
  return randomNormal(count, seed, Math.sqrt(gain / fanIn));
}

/** Small biases around zero. */
export function smallBias(count: number, seed: number): Float32Array {
  return randomNormal(count, seed, 0.01);
}

/** Rows of `tables` embedding tables whose looked-up rows are summed: the sum keeps unit variance. */
export function embeddingRows(count: number, tables: number, seed: number): Float32Array {
  return randomNormal(count, seed, Math.sqrt(1 / tables));
}

/** LayerNorm scale near 1 (not exactly 1, so a runtime that ignores it gives a different answer). */
export function layerNormScale(count: number, seed: number): Float32Array {
  const scale = randomNormal(count, seed, 0.1);
  for (let i = 0; i < count; i++) scale[i] += 1;
  return scale;
}

/** LayerNorm shift near 0 (not exactly 0, for the same reason). */
export function layerNormShift(count: number, seed: number): Float32Array {
  return randomNormal(count, seed, 0.1);
}
