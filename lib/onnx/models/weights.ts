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
