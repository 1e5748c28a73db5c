// Gradient rules of ReduceSum, ReduceMean and GlobalAveragePool: the output's gradient spread back over
// the reduced axes (divided by the count for means).
import type { NodeProto } from '../../onnx/gen/onnx_pb';
import { intAttr, intsAttr, normAxis, product, unary, type GradientContext, type GradientRule } from './rule';

/** Reduced axes: the `axes` attribute (ReduceMean before 18) or input, all axes when empty. */
function reducedAxes(node: NodeProto, rank: number, ints: GradientContext['ints']): number[] | 'none' {
  const given = intsAttr(node, 'axes') ?? (node.input[1] ? ints(node.input[1]) : undefined) ?? [];
  if (given.length === 0) return intAttr(node, 'noop_with_empty_axes', 0) ? 'none' : Array.from({ length: rank }, (_, i) => i);
  return given.map((a) => normAxis(a, rank));
}

function reduction(mean: boolean): GradientRule {
  return {
    inputs: [0],
    unsupported: (node, _dims, ints) =>
      node.input[1] && ints(node.input[1]) === undefined ? `${node.opType} with axes computed at run time` : undefined,
    grad: (ctx) => {
      const dY = ctx.dOutput(0);
      if (dY === undefined) return [];
      const xDims = ctx.dims(ctx.node.input[0]);
      const axes = reducedAxes(ctx.node, xDims.length, (n) => ctx.ints(n));
      if (axes === 'none') return [dY];
      const kept = xDims.map((d, i) => (axes.includes(i) ? 1 : d));
      const w = ctx.w;
      const shaped = intAttr(ctx.node, 'keepdims', 1) ? dY : w.reshape(dY, kept);
      const scaled = mean ? w.op('Mul', [shaped, ctx.scalar(1 / product(axes.map((a) => xDims[a])))]) : shaped;
      return [w.op('Expand', [scaled, w.ints(xDims)])];
    },
  };
}

export const reduceSum = reduction(false);
export const reduceMean = reduction(true);

export const globalAveragePool = unary((ctx, dY) => {
  const xDims = ctx.dims(ctx.node.input[0]);
  const w = ctx.w;
  return w.op('Expand', [w.op('Mul', [dY, ctx.scalar(1 / product(xDims.slice(2)))]), w.ints(xDims)]);
});
