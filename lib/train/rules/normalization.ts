// Gradient rules of Softmax, LogSoftmax (one axis: opset 13 and later, which the training graph has)
// and LayerNormalization (from its saved mean and inverse standard deviation).
import { DataType, dataTypeOf } from '../../onnx/dtype';
import { sumToShape } from './broadcast';
import { intAttr, normAxis, product, unary, type GradientRule } from './rule';

// dx = y · (dy - Σ dy·y) over the axis.
export const softmax = unary((ctx, dY) => {
  const w = ctx.w;
  const y = ctx.node.output[0];
  const axis = intAttr(ctx.node, 'axis', -1);
  const dot = w.reduceSum(w.op('Mul', [dY, y]), [axis], true);
  return w.op('Mul', [y, w.op('Sub', [dY, dot])]);
});

// dx = dy - softmax · Σ dy over the axis, with softmax = exp(y).
export const logSoftmax = unary((ctx, dY) => {
  const w = ctx.w;
  const axis = intAttr(ctx.node, 'axis', -1);
  const total = w.reduceSum(dY, [axis], true);
  return w.op('Sub', [dY, w.op('Mul', [w.op('Exp', [ctx.node.output[0]]), total])]);
});

/**
 * LayerNormalization over axes [axis, rank): with x̂ = (x - mean)·inv and g = dy·scale,
 * dx = inv · (g - mean(g) - x̂·mean(g·x̂)), dscale = Σ dy·x̂, dbias = Σ dy over the other axes.
 */
export const layerNormalization: GradientRule = {
  inputs: [0, 1, 2],
  grad: (ctx) => {
    const dY = ctx.dOutput(0);
    if (dY === undefined) return [];
    const w = ctx.w;
    const [x, scale, bias = ''] = ctx.node.input;
    const xDims = ctx.dims(x);
    const axis = normAxis(intAttr(ctx.node, 'axis', -1), xDims.length);
    const axes = Array.from({ length: xDims.length - axis }, (_, i) => axis + i);
    const count = product(xDims.slice(axis));
    // Mean and inverse deviation come in the stash type (float32 by default, also for float64 inputs).
    const own = dataTypeOf(ctx.dtype);
    const saved = (i: number): string => intAttr(ctx.node, 'stash_type', DataType.FLOAT) === own
      ? ctx.forwardOutput(i) : w.op('Cast', [ctx.forwardOutput(i)], { to: own });
    const mean = saved(1);
    const inv = saved(2);
    const normalized = w.op('Mul', [w.op('Sub', [x, mean]), inv]);
    const meanOver = (v: string): string => w.op('Mul', [w.reduceSum(v, axes, true), ctx.scalar(1 / count)]);
    let dx: string | undefined;
    if (ctx.needs(0)) {
      const g = w.op('Mul', [dY, scale]);
      const centred = w.op('Sub', [g, meanOver(g)]);
      dx = w.op('Mul', [inv, w.op('Sub', [centred, w.op('Mul', [normalized, meanOver(w.op('Mul', [g, normalized]))])])]);
    }
    const dScale = ctx.needs(1) ? sumToShape(w, w.op('Mul', [dY, normalized]), xDims, ctx.dims(scale)) : undefined;
    const dBias = bias !== '' && ctx.needs(2) ? sumToShape(w, dY, xDims, ctx.dims(bias)) : undefined;
    return [dx, dScale, dBias];
  },
};
