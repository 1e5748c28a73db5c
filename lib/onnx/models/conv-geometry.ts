// A convolution's geometry: output sizes, weight dims, and the fan-in that He scaling divides by.

/** A convolution's geometry: one kernel size per spatial axis; stride, pad and dilation alike on every axis. */
export interface ConvShape {
  inChannels: number;
  outChannels: number;
  kernel: readonly number[];
  stride?: number;
  pad?: number;
  dilation?: number;
  group?: number;
  /**
   * The input's spatial size. With it, He scaling counts only the taps that read the input, not its
   * zero padding, so small inputs (a 3x3 kernel on a 1x1 map) keep unit scale instead of shrinking.
   */
  input?: readonly number[];
}

/** Output length of a convolution or pooling window sliding over `size` (floor mode). */
export function slidingOutputSize(size: number, kernel: number, stride = 1, pad = 0, dilation = 1): number {
  return Math.floor((size + 2 * pad - dilation * (kernel - 1) - 1) / stride) + 1;
}

/** The spatial size a conv of `shape` writes from its `input` size. */
export function convOutputSize(shape: ConvShape & { input: readonly number[] }): number[] {
  const { stride = 1, pad = 0, dilation = 1 } = shape;
  return shape.input.map((size, axis) => slidingOutputSize(size, shape.kernel[axis], stride, pad, dilation));
}

/** Taps of a kernel per output position, on average, that land inside an input of `size`. */
function tapsInside(size: number, kernel: number, stride: number, pad: number, dilation: number): number {
  const outputs = slidingOutputSize(size, kernel, stride, pad, dilation);
  let inside = 0;
  for (let o = 0; o < outputs; o++) {
    for (let t = 0; t < kernel; t++) {
      const at = o * stride - pad + t * dilation;
      if (at >= 0 && at < size) inside++;
    }
  }
  return inside / outputs;
}

/** A conv's weight dims [outChannels, inChannels / group, ...kernel] and the fan-in He scaling uses. */
export function convWeightDims(shape: ConvShape): { dims: number[]; fanIn: number } {
  const groupChannels = shape.inChannels / (shape.group ?? 1);
  if (!Number.isInteger(groupChannels) || shape.outChannels % (shape.group ?? 1) !== 0) {
    throw new RangeError(`group ${shape.group} does not divide ${shape.inChannels} input and ${shape.outChannels} output channels`);
  }
  const { kernel, input, stride = 1, pad = 0, dilation = 1 } = shape;
  const taps = kernel.reduce((product, k, axis) => product * (input ? tapsInside(input[axis], k, stride, pad, dilation) : k), 1);
  return { dims: [shape.outChannels, groupChannels, ...kernel], fanIn: groupChannels * taps };
}
