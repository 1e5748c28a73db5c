// Gradient rules of MaxPool (the gradient goes to each window's maximum, found from the Indices output)
// and AveragePool (spread evenly over each window, by a ConvTranspose with a ones kernel per channel).
import { intAttr, intsAttr, product, type GradientRule } from './rule';
import { transposeBack, windowOf, type Window } from './window';

export const maxPool: GradientRule = {
  inputs: [0],
  unsupported: (node) => (intAttr(node, 'storage_order', 0) !== 0 ? 'MaxPool with column-major indices (storage_order 1)' : undefined),
  grad: (ctx) => {
    const dY = ctx.dOutput(0);
    if (dY === undefined) return [];
    const w = ctx.w;
    const xDims = ctx.dims(ctx.node.input[0]);
    // Indices count over the whole input tensor, batch and channels included; overlapping windows repeat them.
    const flat = w.op('ScatterElements', [
      w.zeros([product(xDims)], ctx.dtype),
      w.reshape(ctx.forwardOutput(1), [-1]),
      w.reshape(dY, [-1]),
    ], { axis: 0, reduction: 'add' });
    return [w.reshape(flat, xDims)];
  },
};

/** 1 / (elements each window averages): in-bounds ones only, unless pads count too. */
function divisors(win: Window, inputSpatial: readonly number[], outputSpatial: readonly number[], countPads: boolean): Float64Array {
  const n = inputSpatial.length;
  const perAxis = inputSpatial.map((size, i) => Array.from({ length: outputSpatial[i] }, (_, o) => {
    const low = countPads ? -win.pads[i] : 0;
    const high = countPads ? size + win.pads[i + n] : size;
    let count = 0;
    for (let k = 0; k < win.kernel[i]; k++) {
      const at = o * win.strides[i] - win.pads[i] + k * win.dilations[i];
      if (at >= low && at < high) count++;
    }
    return count;
  }));
  const out = new Float64Array(product(outputSpatial));
  for (let flat = 0; flat < out.length; flat++) {
    let rest = flat;
    let count = 1;
    for (let i = n - 1; i >= 0; i--) {
      count *= perAxis[i][rest % outputSpatial[i]];
      rest = Math.floor(rest / outputSpatial[i]);
    }
    out[flat] = 1 / count;
  }
  return out;
}

export const averagePool: GradientRule = {
  inputs: [0],
  grad: (ctx) => {
    const dY = ctx.dOutput(0);
    if (dY === undefined) return [];
    const w = ctx.w;
    const xDims = ctx.dims(ctx.node.input[0]);
    const yDims = ctx.dims(ctx.node.output[0]);
    const channels = xDims[1];
    const kernel = intsAttr(ctx.node, 'kernel_shape') ?? [];
    const win = windowOf(ctx.node, xDims.slice(2), kernel);
    const scale = divisors(win, xDims.slice(2), yDims.slice(2), intAttr(ctx.node, 'count_include_pad', 0) === 1);
    const Ctor = ctx.dtype === 'float64' ? Float64Array : Float32Array;
    const scaled = w.op('Mul', [dY, w.constant(Ctor.from(scale), [1, 1, ...yDims.slice(2)], ctx.dtype)]);
    const ones = w.constant(new Ctor(channels * product(kernel)).fill(1), [channels, 1, ...kernel], ctx.dtype);
    return [w.op('ConvTranspose', [scaled, ones], { ...transposeBack(win, yDims.slice(2), xDims.slice(2)), group: channels })];
  },
};
