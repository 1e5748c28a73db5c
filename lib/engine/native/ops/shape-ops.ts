// Ops that compute shapes or rearrange elements: Shape, Size, Reshape, Flatten, Squeeze,
// Unsqueeze, Transpose, Slice, Split, Expand, Concat, Gather, ConstantOfShape, Range. The
// rearranging ones lower to strided views where they can, so they cost nothing until an op
// needs a dense operand.
import { elementCount } from '../../../onnx/tensor';
import { LoweringError } from '../errors';
import { intAttr, intsAttr, type IrNode } from '../ir';
import { checkEngineDType, packedOrder, sameOrder, type ValueRef } from '../lower-context';
import { emptyTensor, setValues, stridesOf, tensorFrom, valuesOf, type ConstTensor } from '../tensor-data';
import { alignStrides, broadcastShapes } from './broadcast';
import type { LowerArgs, OpDef, OutputType, Shaped } from './types';

function fail(node: IrNode, reason: string): never {
  throw new LoweringError(node.name, node.op, reason);
}

function normAxis(node: IrNode, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) fail(node, `axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** A constant integer input's values (shape arguments). */
function constInts(node: IrNode, s: Shaped | undefined, what: string): number[] | undefined {
  if (!s) return undefined;
  if (!s.value) fail(node, `${what} computed from input data is not supported (the shape must follow from the input shapes)`);
  return valuesOf(s.value);
}

/** The input as a ValueRef, constants included. */
function refOf(args: LowerArgs, i: number): ValueRef {
  return args.inputs[i] ?? args.ctx.constant(args.shaped[i]!.name, args.shaped[i]!.value!);
}

/** A view of `x` with the same elements in row-major order and new dims. */
function reshaped(args: LowerArgs, x: ValueRef, dims: number[]): ValueRef {
  return { ...args.ctx.denseRef(x), dims: [...dims], strides: stridesOf(dims) };
}

/** Folds by lowering's view logic on plain arrays: out[i] = x[offset + sum(coord_d * strides_d)]. */
function foldView(x: ConstTensor, dims: number[], strides: number[], offset: number): ConstTensor {
  const out = emptyTensor(x.dtype, dims);
  const outStrides = stridesOf(dims);
  const n = elementCount(dims);
  for (let i = 0; i < n; i++) {
    let at = offset;
    for (let d = 0; d < dims.length; d++) at += (Math.floor(i / outStrides[d]) % dims[d]) * strides[d];
    out.data[i] = x.data[at];
  }
  return out;
}

/** Shape ops described once as a view of input 0: dims, strides and offset from the input's. */
interface ViewSpec {
  view(node: IrNode, inputs: (Shaped | undefined)[], opset: number, x: { dims: number[]; strides: number[] }): { dims: number[]; strides: number[]; offset: number };
  constInputs?: number[];
}

function viewOp(spec: ViewSpec): OpDef {
  return {
    constInputs: spec.constInputs,
    infer(node, inputs, opset) {
      const x = inputs[0]!;
      const v = spec.view(node, inputs, opset, { dims: x.dims, strides: stridesOf(x.dims) });
      return [{ dtype: x.dtype, dims: v.dims }];
    },
    foldable: (inputs) => inputs[0]?.value !== undefined && inputs.every((s) => !s || s.value !== undefined),
    fold(node, inputs, opset) {
      const x = inputs[0]!.value!;
      const v = spec.view(node, inputs, opset, { dims: x.dims, strides: stridesOf(x.dims) });
      return [foldView(x, v.dims, v.strides, v.offset)];
    },
    lower(args) {
      const x = refOf(args, 0);
      const v = spec.view(args.node, args.shaped, args.opset, x);
      return [{ ...x, dims: v.dims, strides: v.strides, offset: x.offset + v.offset }];
    },
  };
}

/** Ops that keep row-major element order and only change dims (Reshape, Flatten). */
function reshapeOp(dimsOf: (node: IrNode, inputs: (Shaped | undefined)[], opset: number) => number[], constInputs?: number[]): OpDef {
  return {
    constInputs,
    infer(node, inputs, opset) {
      return [{ dtype: inputs[0]!.dtype, dims: dimsOf(node, inputs, opset) }];
    },
    foldable: (inputs) => inputs[0]?.value !== undefined && inputs.every((s) => !s || s.value !== undefined),
    fold(node, inputs, opset) {
      const x = inputs[0]!.value!;
      return [{ dtype: x.dtype, dims: dimsOf(node, inputs, opset), data: x.data }];
    },
    lower(args) {
      return [reshaped(args, refOf(args, 0), args.outputs[0].dims)];
    },
  };
}

function reshapeDims(node: IrNode, inputs: (Shaped | undefined)[]): number[] {
  const x = inputs[0]!;
  const target = constInts(node, inputs[1], 'a Reshape target')!;
  const allowZero = intAttr(node, 'allowzero', 0) === 1;
  const dims = target.map((d, i) => (d === 0 && !allowZero ? x.dims[i] : d));
  if (dims.some((d) => d === undefined)) fail(node, 'a 0 in the target has no input dim to copy');
  const unknown = dims.indexOf(-1);
  if (unknown >= 0) {
    const known = dims.reduce((p, d, i) => (i === unknown ? p : p * d), 1);
    dims[unknown] = known === 0 ? 0 : elementCount(x.dims) / known;
  }
  if (dims.some((d) => !Number.isInteger(d) || d < 0) || elementCount(dims) !== elementCount(x.dims)) {
    fail(node, `cannot reshape [${x.dims}] to [${target}]`);
  }
  return dims;
}

function flattenDims(node: IrNode, inputs: (Shaped | undefined)[]): number[] {
  const x = inputs[0]!;
  let axis = intAttr(node, 'axis', 1);
  if (axis < 0) axis += x.dims.length;
  if (axis < 0 || axis > x.dims.length) fail(node, `axis out of range for rank ${x.dims.length}`);
  return [elementCount(x.dims.slice(0, axis)), elementCount(x.dims.slice(axis))];
}

function axesOf(node: IrNode, inputs: (Shaped | undefined)[], opset: number, inputFrom: number): number[] | undefined {
  if (opset >= inputFrom) return constInts(node, inputs[1], 'axes');
  return intsAttr(node, 'axes');
}

const squeeze = viewOp({
  constInputs: [1],
  view(node, inputs, opset, x) {
    const axes = axesOf(node, inputs, opset, 13)?.map((a) => normAxis(node, a, x.dims.length));
    const drop = new Set(axes ?? x.dims.flatMap((d, i) => (d === 1 ? [i] : [])));
    for (const a of drop) if (x.dims[a] !== 1) fail(node, `axis ${a} has size ${x.dims[a]}, not 1`);
    const keep = x.dims.map((_, i) => i).filter((i) => !drop.has(i));
    return { dims: keep.map((i) => x.dims[i]), strides: keep.map((i) => x.strides[i]), offset: 0 };
  },
});

const unsqueeze = viewOp({
  constInputs: [1],
  view(node, inputs, opset, x) {
    const axes = axesOf(node, inputs, opset, 13);
    if (!axes) fail(node, 'no axes');
    const rank = x.dims.length + axes.length;
    const inserted = new Set(axes.map((a) => normAxis(node, a, rank)));
    const dims: number[] = [], strides: number[] = [];
    let from = 0;
    for (let i = 0; i < rank; i++) {
      if (inserted.has(i)) {
        dims.push(1);
        strides.push(0);
      } else {
        dims.push(x.dims[from]);
        strides.push(x.strides[from++]);
      }
    }
    return { dims, strides, offset: 0 };
  },
});

const transpose = viewOp({
  view(node, _inputs, _opset, x) {
    const rank = x.dims.length;
    const perm = intsAttr(node, 'perm') ?? x.dims.map((_, i) => rank - 1 - i);
    if (perm.length !== rank || new Set(perm).size !== rank || perm.some((p) => p < 0 || p >= rank)) fail(node, `bad perm [${perm}]`);
    return { dims: perm.map((p) => x.dims[p]), strides: perm.map((p) => x.strides[p]), offset: 0 };
  },
});

/** ONNX Slice's clamping of one axis: first index, count and step. */
function sliceAxis(dim: number, start: number, end: number, step: number): { first: number; count: number } {
  const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = clamp(s, 0, dim);
    e = clamp(e, 0, dim);
    return { first: s, count: Math.max(0, Math.ceil((e - s) / step)) };
  }
  s = clamp(s, -1, dim - 1);
  e = clamp(e, -1, dim - 1);
  return { first: s, count: Math.max(0, Math.ceil((e - s) / step)) };
}

const slice = viewOp({
  constInputs: [1, 2, 3, 4],
  view(node, inputs, opset, x) {
    const rank = x.dims.length;
    const starts = opset >= 10 ? constInts(node, inputs[1], 'Slice starts')! : intsAttr(node, 'starts') ?? [];
    const ends = opset >= 10 ? constInts(node, inputs[2], 'Slice ends')! : intsAttr(node, 'ends') ?? [];
    const axes = (opset >= 10 ? constInts(node, inputs[3], 'Slice axes') : intsAttr(node, 'axes')) ?? starts.map((_, i) => i);
    const steps = (opset >= 10 ? constInts(node, inputs[4], 'Slice steps') : undefined) ?? starts.map(() => 1);
    const dims = [...x.dims], strides = [...x.strides];
    let offset = 0;
    axes.forEach((axis, i) => {
      const a = normAxis(node, axis, rank);
      if (steps[i] === 0) fail(node, 'a step of 0');
      const { first, count } = sliceAxis(x.dims[a], starts[i], ends[i], steps[i]);
      dims[a] = count;
      if (count > 0) offset += first * x.strides[a];
      strides[a] = x.strides[a] * steps[i];
    });
    return { dims, strides, offset };
  },
});

const expand = viewOp({
  constInputs: [1],
  view(node, inputs, _opset, x) {
    const shape = constInts(node, inputs[1], 'an Expand shape')!;
    const dims = broadcastShapes(node, [x.dims, shape]);
    return { dims, strides: alignStrides(x.dims, x.strides, dims), offset: 0 };
  },
});

function splitSizes(node: IrNode, inputs: (Shaped | undefined)[], opset: number, dim: number): number[] {
  const given = opset >= 13 ? (inputs[1] ? constInts(node, inputs[1], 'Split sizes') : undefined) : intsAttr(node, 'split');
  if (given) {
    if (given.reduce((a, b) => a + b, 0) !== dim) fail(node, `split sizes [${given}] do not add up to ${dim}`);
    return given;
  }
  const parts = node.outputs.length;
  const size = Math.ceil(dim / parts);
  return Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(size, dim - i * size)));
}

const split: OpDef = {
  constInputs: [1],
  infer(node, inputs, opset) {
    const x = inputs[0]!;
    const axis = normAxis(node, intAttr(node, 'axis', 0), x.dims.length);
    return splitSizes(node, inputs, opset, x.dims[axis]).map((size): OutputType => {
      const dims = [...x.dims];
      dims[axis] = size;
      return { dtype: x.dtype, dims };
    });
  },
  foldable: (inputs) => inputs.every((s) => !s || s.value !== undefined),
  fold(node, inputs, opset) {
    const x = inputs[0]!.value!;
    const axis = normAxis(node, intAttr(node, 'axis', 0), x.dims.length);
    const strides = stridesOf(x.dims);
    let start = 0;
    return splitSizes(node, inputs, opset, x.dims[axis]).map((size) => {
      const dims = [...x.dims];
      dims[axis] = size;
      const out = foldView(x, dims, strides, start * strides[axis]);
      start += size;
      return out;
    });
  },
  lower(args) {
    const x = refOf(args, 0);
    const axis = normAxis(args.node, intAttr(args.node, 'axis', 0), x.dims.length);
    let start = 0;
    return splitSizes(args.node, args.shaped, args.opset, x.dims[axis]).map((size) => {
      const dims = [...x.dims];
      dims[axis] = size;
      const view = { ...x, dims, offset: x.offset + start * x.strides[axis] };
      start += size;
      return view;
    });
  },
};

/** Channels-last orders by rank (N, spatial..., C). */
const CHANNELS_LAST: Record<number, number[]> = { 3: [0, 2, 1], 4: [0, 2, 3, 1] };

const concat: OpDef = {
  infer(node, inputs) {
    const present = inputs.filter((s): s is Shaped => s !== undefined);
    const rank = present[0].dims.length;
    const axis = normAxis(node, intAttr(node, 'axis', 0), rank);
    const dims = [...present[0].dims];
    dims[axis] = 0;
    for (const s of present) {
      if (s.dims.length !== rank || s.dims.some((d, i) => i !== axis && d !== present[0].dims[i])) fail(node, 'inputs differ in shape off the axis');
      if (s.dtype !== present[0].dtype) fail(node, 'inputs differ in type');
      dims[axis] += s.dims[axis];
    }
    return [{ dtype: present[0].dtype, dims }];
  },
  fold(node, inputs) {
    const xs = inputs.map((s) => s!.value!);
    const axis = normAxis(node, intAttr(node, 'axis', 0), xs[0].dims.length);
    const outer = elementCount(xs[0].dims.slice(0, axis));
    const dims = [...xs[0].dims];
    dims[axis] = xs.reduce((a, x) => a + x.dims[axis], 0);
    const values: number[] = [];
    for (let o = 0; o < outer; o++) {
      for (const x of xs) {
        const inner = elementCount(x.dims.slice(axis));
        values.push(...valuesOf(x).slice(o * inner, (o + 1) * inner));
      }
    }
    return [tensorFrom(xs[0].dtype, dims, values)];
  },
  lower(args) {
    const { ctx, node, outputs } = args;
    const dims = outputs[0].dims;
    const axis = normAxis(node, intAttr(node, 'axis', 0), dims.length);
    if (elementCount(dims) === 0) return [ctx.arena(outputs[0].dtype, dims)];
    const parts = args.shaped.map((_, i) => refOf(args, i)).filter((r) => elementCount(r.dims) > 0);
    // Inputs that all lie channels-last (the convolutions' NHWC) are joined in that layout.
    const layout = CHANNELS_LAST[dims.length];
    if (layout && parts.every((r) => sameOrder(packedOrder(r), layout, r.dims))) {
      const joined = ctx.arenaInOrder(outputs[0].dtype, dims, layout);
      const at = layout.indexOf(axis);
      const physical = (d: number[]) => layout.map((a) => d[a]);
      ctx.step('Concat', parts.map((r) => ctx.flat(r)), [ctx.flat(joined)],
        [elementCount(physical(dims).slice(0, at)), ...parts.map((r) => elementCount(physical(r.dims).slice(at)))]);
      return [joined];
    }
    const out = ctx.arena(outputs[0].dtype, dims);
    ctx.step('Concat', parts.map((r) => ctx.dense(r)), [ctx.dense(out)],
      [elementCount(dims.slice(0, axis)), ...parts.map((r) => elementCount(r.dims.slice(axis)))]);
    return [out];
  },
};

const gather: OpDef = {
  infer(node, inputs) {
    const [data, indices] = inputs as Shaped[];
    const axis = normAxis(node, intAttr(node, 'axis', 0), data.dims.length);
    if (indices.dtype !== 'int64' && indices.dtype !== 'int32') fail(node, 'indices must be int64 or int32');
    checkEngineDType(node.name, node.op, data.dtype);
    return [{ dtype: data.dtype, dims: [...data.dims.slice(0, axis), ...indices.dims, ...data.dims.slice(axis + 1)] }];
  },
  fold(node, inputs) {
    const [data, indices] = inputs.map((s) => s!.value!);
    const axis = normAxis(node, intAttr(node, 'axis', 0), data.dims.length);
    const outer = elementCount(data.dims.slice(0, axis)), inner = elementCount(data.dims.slice(axis + 1));
    const dim = data.dims[axis];
    const idx = valuesOf(indices).map((i) => {
      if (i < -dim || i >= dim) fail(node, `index ${i} is out of range for an axis of ${dim}`);
      return i < 0 ? i + dim : i;
    });
    const values = valuesOf(data);
    const out: number[] = [];
    for (let o = 0; o < outer; o++) for (const i of idx) out.push(...values.slice((o * dim + i) * inner, (o * dim + i + 1) * inner));
    return [tensorFrom(data.dtype, [...data.dims.slice(0, axis), ...indices.dims, ...data.dims.slice(axis + 1)], out)];
  },
  lower(args) {
    const { ctx, node, shaped, outputs } = args;
    const data = refOf(args, 0);
    const axis = normAxis(node, intAttr(node, 'axis', 0), data.dims.length);
    const indices = shaped[1]!;
    if (indices.value && indices.dims.length === 0) {
      // One constant index: a view that drops the axis.
      let i = valuesOf(indices.value)[0];
      if (i < -data.dims[axis] || i >= data.dims[axis]) fail(node, `index ${i} is out of range for an axis of ${data.dims[axis]}`);
      if (i < 0) i += data.dims[axis];
      const dims = data.dims.filter((_, d) => d !== axis), strides = data.strides.filter((_, d) => d !== axis);
      return [{ ...data, dims, strides, offset: data.offset + i * data.strides[axis] }];
    }
    const out = ctx.arena(outputs[0].dtype, outputs[0].dims);
    if (elementCount(outputs[0].dims) === 0) return [out];
    ctx.step('Gather', [ctx.dense(data), ctx.dense(refOf(args, 1))], [ctx.dense(out)],
      [elementCount(data.dims.slice(0, axis)), data.dims[axis], elementCount(data.dims.slice(axis + 1))]);
    return [out];
  },
};

const constantOfShape: OpDef = {
  constInputs: [0],
  infer(node, inputs) {
    const dims = constInts(node, inputs[0], 'a ConstantOfShape shape')!;
    const v = node.attrs.value;
    return [{ dtype: v && typeof v === 'object' && 'dtype' in v ? v.dtype : 'float32', dims }];
  },
  fold(node, inputs) {
    const dims = valuesOf(inputs[0]!.value!);
    const v = node.attrs.value;
    const given = v && typeof v === 'object' && 'dtype' in v ? v : undefined;
    const out = emptyTensor(given?.dtype ?? 'float32', dims);
    const fill = given ? valuesOf(given)[0] : 0;
    setValues(out, new Array<number>(out.data.length).fill(fill));
    return [out];
  },
  lower() {
    throw new Error('ConstantOfShape is always folded');
  },
};

const range: OpDef = {
  constInputs: [0, 1, 2],
  infer(node, inputs) {
    const [start, limit, delta] = inputs.map((s, i) => constInts(node, s, ['start', 'limit', 'delta'][i])![0]);
    if (delta === 0) fail(node, 'a delta of 0');
    return [{ dtype: inputs[0]!.dtype, dims: [Math.max(0, Math.ceil((limit - start) / delta))] }];
  },
  fold(node, inputs) {
    const [start, limit, delta] = inputs.map((s) => valuesOf(s!.value!)[0]);
    const n = Math.max(0, Math.ceil((limit - start) / delta));
    return [tensorFrom(inputs[0]!.dtype, [n], Array.from({ length: n }, (_, i) => start + i * delta))];
  },
  lower() {
    throw new Error('Range is always folded');
  },
};

const shape: OpDef = {
  infer(node, inputs) {
    const rank = inputs[0]!.dims.length;
    const clampAxis = (v: number): number => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
    const start = clampAxis(intAttr(node, 'start', 0)), end = clampAxis(intAttr(node, 'end', rank));
    return [{ dtype: 'int64', dims: [Math.max(0, end - start)] }];
  },
  foldable: () => true,
  fold(node, inputs) {
    const dims = inputs[0]!.dims, rank = dims.length;
    const clampAxis = (v: number): number => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
    const part = dims.slice(clampAxis(intAttr(node, 'start', 0)), clampAxis(intAttr(node, 'end', rank)));
    return [tensorFrom('int64', [part.length], part)];
  },
  lower() {
    throw new Error('Shape is always folded');
  },
};

const size: OpDef = {
  infer: () => [{ dtype: 'int64', dims: [] }],
  foldable: () => true,
  fold: (_node, inputs) => [tensorFrom('int64', [], [elementCount(inputs[0]!.dims)])],
  lower() {
    throw new Error('Size is always folded');
  },
};

export const SHAPE_OPS: Record<string, OpDef> = {
  Shape: shape,
  Size: size,
  Reshape: reshapeOp((node, inputs) => reshapeDims(node, inputs), [1]),
  Flatten: reshapeOp((node, inputs) => flattenDims(node, inputs)),
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Transpose: transpose,
  Slice: slice,
  Split: split,
  Expand: expand,
  Concat: concat,
  Gather: gather,
  ConstantOfShape: constantOfShape,
  Range: range,
};
