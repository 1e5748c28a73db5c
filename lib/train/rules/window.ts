// The geometry of sliding-window ops (Conv, pooling) with concrete sizes: explicit pads for every
// auto_pad mode, and the ConvTranspose settings that bring a gradient back to the input's extent.
import type { NodeProto } from '../../onnx/gen/onnx_pb';
import { intsAttr, stringAttr } from './rule';

export interface Window {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** Pads at the start of each spatial axis, then at the end (ONNX order). */
  pads: number[];
}

export function windowOf(node: NodeProto, inputSpatial: readonly number[], kernel: readonly number[]): Window {
  const n = inputSpatial.length;
  const strides = intsAttr(node, 'strides') ?? new Array<number>(n).fill(1);
  const dilations = intsAttr(node, 'dilations') ?? new Array<number>(n).fill(1);
  const autoPad = stringAttr(node, 'auto_pad', 'NOTSET');
  let pads = intsAttr(node, 'pads') ?? new Array<number>(2 * n).fill(0);
  if (autoPad === 'VALID') pads = new Array<number>(2 * n).fill(0);
  else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pads = new Array<number>(2 * n).fill(0);
    for (let i = 0; i < n; i++) {
      const out = Math.ceil(inputSpatial[i] / strides[i]);
      const total = Math.max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - inputSpatial[i]);
      const small = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[i + n] = total - pads[i];
    }
  }
  return { kernel: [...kernel], strides, dilations, pads };
}

/**
 * Attributes of a ConvTranspose that maps output-sized values back onto an input of `inputSpatial`:
 * output_padding fills what floor division lost, and an end pad crops what ceil_mode added.
 */
export function transposeBack(window: Window, outputSpatial: readonly number[], inputSpatial: readonly number[]): Record<string, number[]> {
  const n = inputSpatial.length;
  const pads = [...window.pads];
  const outputPadding = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    const natural = window.strides[i] * (outputSpatial[i] - 1) + (window.kernel[i] - 1) * window.dilations[i] + 1 - pads[i] - pads[i + n];
    if (natural < inputSpatial[i]) outputPadding[i] = inputSpatial[i] - natural;
    else pads[i + n] += natural - inputSpatial[i];
  }
  return { strides: window.strides, dilations: window.dilations, pads, output_padding: outputPadding, kernel_shape: window.kernel };
}
