// Gradient rule of Conv (any spatial rank, strides, dilations, pads, groups including depthwise).
// dX is a ConvTranspose of dY with the same weights. dW correlates X with dY: a Conv whose "kernel" is dY,
// with strides and dilations swapped.
import type { GraphWriter } from '../graph-writer';
import { intAttr, type GradientRule } from './rule';
import { transposeBack, windowOf, type Window } from './window';

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

/** The first `kernel` entries of each spatial axis of a [*, *, spatial...] value, when it has more. */
function cropToKernel(w: GraphWriter, value: string, kernel: readonly number[]): string {
  const n = kernel.length;
  return w.op('Slice', [value, w.ints(new Array<number>(n).fill(0)), w.ints(kernel), w.ints(range(2, 2 + n))]);
}

/**
 * group 1: batch and channels swap roles, X as [C, N, ...] against dY as kernels [M, N, ...], one
 * dense Conv. Grouped: every (sample, input channel) is its own group of a depthwise Conv against the
 * dY channels of its group, then the samples are summed.
 */
function weightGradient(w: GraphWriter, x: string, dY: string, xDims: number[], yDims: number[], group: number, win: Window): string {
  const n = win.kernel.length;
  const spatial = range(2, 2 + n);
  const swapped = { strides: win.dilations, dilations: win.strides, pads: win.pads };
  const [batch, channels] = xDims;
  const outputs = yDims[1];
  if (group === 1) {
    const correlated = w.op('Conv', [w.transpose(x, [1, 0, ...spatial]), w.transpose(dY, [1, 0, ...spatial])], swapped);
    return cropToKernel(w, w.transpose(correlated, [1, 0, ...spatial]), win.kernel);
  }
  const perIn = channels / group;
  const perOut = outputs / group;
  const ySpatial = yDims.slice(2);
  const kernels = w.op('Expand', [w.reshape(dY, [batch, group, 1, perOut, ...ySpatial]), w.ints([batch, group, perIn, perOut, ...ySpatial])]);
  const correlated = w.op('Conv', [
    w.reshape(x, [1, batch * channels, ...xDims.slice(2)]),
    w.reshape(kernels, [batch * channels * perOut, 1, ...ySpatial]),
  ], { ...swapped, group: batch * channels });
  const cropped = cropToKernel(w, correlated, win.kernel);
  const perSample = w.reshape(cropped, [batch, group, perIn, perOut, ...win.kernel]);
  const summed = w.reduceSum(perSample, [0], false);
  return w.reshape(w.transpose(summed, [0, 2, 1, ...range(3, 3 + n)]), [outputs, perIn, ...win.kernel]);
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
    const dw = ctx.needs(1) ? weightGradient(w, x, dY, xDims, yDims, group, win) : undefined;
    const db = bias !== '' && ctx.needs(2) ? w.reduceSum(dY, [0, ...range(2, yDims.length)], false) : undefined;
    return [dx, dw, db];
  },
};
