// The linear layers the static fusions find: weights as the model stores them, ready to be
// packed for the kernel the layer's sparsity calls for.
export interface LinearLayer {
  /** The node the layer came from (for reports and per-layer overrides). */
  name: string;
  k: number;
  n: number;
  /** float32 k x n (or n x k when `transposed`), or int8 k x n with scales and zero points. */
  weights: Float32Array | Int8Array;
  transposed: boolean;
  scales?: Float32Array;
  zeroPoints?: Int8Array;
}

export function isQuantizedLayer(layer: LinearLayer): boolean {
  return layer.weights instanceof Int8Array;
}

/** Fraction of the layer's weights that are exactly zero. */
export function layerSparsity(layer: LinearLayer): number {
  const w = layer.weights;
  let zeros = 0;
  for (let i = 0; i < w.length; i++) if (w[i] === 0) zeros++;
  return w.length === 0 ? 0 : zeros / w.length;
}

/** The weights as k x n row-major (float layers given transposed are transposed here). */
export function rowMajorWeights(layer: LinearLayer): Float32Array | Int8Array {
  if (!layer.transposed) return layer.weights;
  const { k, n } = layer;
  const src = layer.weights as Float32Array;
  const out = new Float32Array(k * n);
  for (let j = 0; j < n; j++) for (let kk = 0; kk < k; kk++) out[kk * n + j] = src[j * k + kk];
  return out;
}
