// Gradient rules of ops that move values without computing on them: reshapes, transposes, joins and
// cuts, Expand, and Gather (embedding lookups), whose gradient is a scatter-add into the table.
import { DataType } from '../../onnx/dtype';
import { sumToShape } from './broadcast';
import { intAttr, intsAttr, normAxis, type GradientRule } from './rule';

/** Reshape, Flatten, Squeeze, Unsqueeze: the gradient takes the input's shape back. */
export const reshapeLike: GradientRule = {
  inputs: [0],
  grad: (ctx) => {
    const dY = ctx.dOutput(0);
    return [dY === undefined ? undefined : ctx.w.reshape(dY, ctx.dims(ctx.node.input[0]))];
  },
};

export const transpose: GradientRule = {
  inputs: [0],
  grad: (ctx) => {
    const dY = ctx.dOutput(0);
    if (dY === undefined) return [];
    const rank = ctx.dims(ctx.node.input[0]).length;
    const perm = intsAttr(ctx.node, 'perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
    const inverse = new Array<number>(rank);
    perm.forEach((p, i) => (inverse[p] = i));
    return [ctx.w.transpose(dY, inverse)];
  },
};

export const expand: GradientRule = {
  inputs: [0],
  grad: (ctx) => {
    const dY = ctx.dOutput(0);
    const x = ctx.node.input[0];
    return [dY === undefined ? undefined : sumToShape(ctx.w, dY, ctx.dims(ctx.node.output[0]), ctx.dims(x))];
  },
};

/** Each input gets its stretch of the output's gradient along the axis. */
export const concat: GradientRule = {
  inputs: 'all',
  grad: (ctx) => {
    const dY = ctx.dOutput(0);
    if (dY === undefined) return [];
    const rank = ctx.dims(ctx.node.output[0]).length;
    const axis = normAxis(intAttr(ctx.node, 'axis', 0), rank);
    let offset = 0;
    return ctx.node.input.map((x, i) => {
      const size = ctx.dims(x)[axis];
      const from = offset;
      offset += size;
      return ctx.needs(i) ? ctx.w.op('Slice', [dY, ctx.w.ints([from]), ctx.w.ints([from + size]), ctx.w.ints([axis])]) : undefined;
    });
  },
};

/** The outputs' gradients joined back, zeros for outputs nothing downstream needed. */
export const split: GradientRule = {
  inputs: [0],
  grad: (ctx) => {
    const parts = ctx.node.output.map((out, i) => ctx.dOutput(i) ?? ctx.w.zeros(ctx.dims(out), ctx.dtype));
    const rank = ctx.dims(ctx.node.input[0]).length;
    return [ctx.w.op('Concat', parts, { axis: normAxis(intAttr(ctx.node, 'axis', 0), rank) })];
  },
};

/** Step-1 slices: the gradient padded with zeros back to the input's extent. */
export const slice: GradientRule = {
  inputs: [0],
  unsupported: (node, dims, ints) => {
    const [, starts, ends, axes = '', steps = ''] = node.input;
    if (ints(starts) === undefined || ints(ends) === undefined || (axes !== '' && ints(axes) === undefined)) return 'Slice with bounds unknown before the run';
    if (steps !== '' && ints(steps)?.some((s) => s !== 1) !== false) return 'Slice with steps other than 1';
    return dims(node.input[0]).length === 0 ? 'Slice of a scalar' : undefined;
  },
  grad: (ctx) => {
    const dY = ctx.dOutput(0);
    if (dY === undefined) return [];
    const [x, startsName, , axesName = ''] = ctx.node.input;
    const xDims = ctx.dims(x);
    const yDims = ctx.dims(ctx.node.output[0]);
    const starts = ctx.ints(startsName) as number[];
    const axes = axesName === '' ? starts.map((_, i) => i) : (ctx.ints(axesName) as number[]).map((a) => normAxis(a, xDims.length));
    const begin = new Array<number>(xDims.length).fill(0);
    axes.forEach((axis, i) => {
      const d = xDims[axis];
      const s = starts[i] < 0 ? starts[i] + d : starts[i];
      begin[axis] = Math.min(Math.max(s, 0), d);
    });
    const end = xDims.map((d, i) => d - begin[i] - yDims[i]);
    return [ctx.w.op('Pad', [dY, ctx.w.ints([...begin, ...end])])];
  },
};

/**
 * Gather along `axis`: the gradient is scattered (added, for repeated indices) into zeros shaped like
 * the data. ScatterND writes along the first axis, so other axes are moved to the front and back.
 */
export const gather: GradientRule = {
  inputs: [0],
  grad: (ctx) => {
    const dY = ctx.dOutput(0);
    if (dY === undefined) return [];
    const w = ctx.w;
    const [data, indices] = ctx.node.input;
    const dDims = ctx.dims(data);
    const iDims = ctx.dims(indices);
    const axis = normAxis(intAttr(ctx.node, 'axis', 0), dDims.length);
    let index = ctx.dtypeOf(indices) === 'int64' ? indices : w.op('Cast', [indices], { to: DataType.INT64 });
    // Negative indices count from the end.
    const negative = w.op('Cast', [w.op('Less', [index, w.ints([0])])], { to: DataType.INT64 });
    index = w.op('Add', [index, w.op('Mul', [negative, w.ints([dDims[axis]])])]);
    const rows = w.reshape(index, [...iDims, 1]);
    const q = iDims.length;
    const front = [axis, ...dDims.keys()].filter((a, i) => i === 0 || a !== axis);
    const updates = axis === 0 ? dY : w.transpose(dY, [
      ...Array.from({ length: q }, (_, i) => axis + i),
      ...Array.from({ length: axis }, (_, i) => i),
      ...Array.from({ length: dDims.length - axis - 1 }, (_, i) => axis + q + i),
    ]);
    const zeros = w.zeros(front.map((a) => dDims[a]), ctx.dtype);
    const scattered = w.op('ScatterND', [zeros, rows, updates], { reduction: 'add' });
    if (axis === 0) return [scattered];
    const inverse = new Array<number>(front.length);
    front.forEach((a, i) => (inverse[a] = i));
    return [w.transpose(scattered, inverse)];
  },
};
