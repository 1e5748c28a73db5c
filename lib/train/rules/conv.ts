// Gradient rule of Conv (any spatial rank, strides, dilations, pads, groups including depthwise).
// dX is a ConvTranspose of dY with the same weights; dW correlates X's patches with dY.
import type { FloatType, GraphWriter } from '../graph-writer';
import { intAttr, type GradientRule } from './rule';
import { transposeBack, windowOf, type Window } from './window';

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

/**
 * dW[o, i, t] = Σ over samples and positions of dY[o] · X[i] at tap t. A depthwise Conv with one-hot
 * kernels unfolds X into its taps at every output position (im2col), then per group one batched MatMul
 * against dY and a sum over the samples.
 */
function weightGradient(w: GraphWriter, x: string, dY: string, xDims: number[], yDims: number[], group: number, win: Window, dtype: FloatType): string {
  const [batch, channels] = xDims;
  const outputs = yDims[1];
  const taps = win.kernel.reduce((a, b) => a * b, 1);
  const positions = yDims.slice(2).reduce((a, b) => a * b, 1);
  const oneHot = dtype === 'float64' ? new Float64Array(channels * taps * taps) : new Float32Array(channels * taps * taps);
  for (let c = 0; c < channels; c++) for (let t = 0; t < taps; t++) oneHot[(c * taps + t) * taps + t] = 1;
  const unfold = w.constant(oneHot, [channels * taps, 1, ...win.kernel], dtype);
  const patches = w.op('Conv', [x, unfold], { group: channels, strides: win.strides, dilations: win.dilations, pads: win.pads });
  const perIn = channels / group;
  const perOut = outputs / group;
  const columns = w.transpose(w.reshape(patches, [batch, group, perIn * taps, positions]), [0, 1, 3, 2]);
  const products = w.op('MatMul', [w.reshape(dY, [batch, group, perOut, positions]), columns]);
  return w.reshape(w.reduceSum(products, [0], false), [outputs, perIn, ...win.kernel]);
}

export const conv: GradientRule = {
  inputs: [0, 1, 2],
  grad: (ctx) => {
    const dY = ctx.dOutput(0);
    if (dY === undefined) return [];
    const w = ctx.w;
    const [x, weight, bias = ''] = ctx.node.input;
    const xDims = ctx.dims(x);
    const yDims = ctx.dims(ctx.node.output[0]);
    const wDims = ctx.dims(weight);
    const group = intAttr(ctx.node, 'group', 1);
    const win = windowOf(ctx.node, xDims.slice(2), wDims.slice(2));
    const dx = ctx.needs(0)
      ? w.op('ConvTranspose', [dY, weight], { ...transposeBack(win, yDims.slice(2), xDims.slice(2)), group })
      : undefined;
    const dw = ctx.needs(1) ? weightGradient(w, x, dY, xDims, yDims, group, win, ctx.dtype) : undefined;
    const db = bias !== '' && ctx.needs(2) ? w.reduceSum(dY, [0, ...range(2, yDims.length)], false) : undefined;
    return [dx, dw, db];
  },
};
