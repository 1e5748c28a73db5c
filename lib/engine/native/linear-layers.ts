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
  /**
   * A convolution's layer over an image: its products run over output pixels x batch rows (im2col), not a
   * token count. Not set for a conv over a pooled 1 x 1 map (squeeze-excite), which is a linear layer in effect.
   */
  conv?: boolean;
}

export function isQuantizedLayer(layer: LinearLayer): boolean {
  return layer.weights instanceof Int8Array;
}
