// Matrix and normalization ops: MatMul, Gemm, Softmax/LogSoftmax, LayerNormalization,
// reductions, and the engine's fused Linear and Attention.
import { elementCount } from '../../../onnx/tensor';
import { LoweringError } from '../errors';
import { floatAttr, intAttr, intsAttr, type IrNode } from '../ir';
import { type ValueRef } from '../lower-context';
import { valuesOf } from '../tensor-data';
import { alignStrides, broadcastShapes } from './broadcast';
import { lowerBinary } from './elementwise';
import type { LowerArgs, OpDef, Shaped } from './types';

function fail(node: IrNode, reason: string): never {
  throw new LoweringError(node.name, node.op, reason);
}

function refOf(args: LowerArgs, i: number): ValueRef {
  return args.inputs[i] ?? args.ctx.constant(args.shaped[i]!.name, args.shaped[i]!.value!);
}

function requireFloat(node: IrNode, s: Shaped | undefined, what: string): void {
  if (s && s.dtype !== 'float32') fail(node, `${what} must be float32, is ${s.dtype}`);
}

function matmulDims(node: IrNode, a: number[], b: number[]): { out: number[]; m: number; k: number; n: number; batch: number[] } {
  if (a.length === 0 || b.length === 0) fail(node, 'MatMul of a scalar');
  const a2 = a.length === 1 ? [1, a[0]] : a;
  const b2 = b.length === 1 ? [b[0], 1] : b;
  const m = a2[a2.length - 2], k = a2[a2.length - 1], n = b2[b2.length - 1];
  if (b2[b2.length - 2] !== k) fail(node, `inner dimensions differ: [${a}] x [${b}]`);
  const batch = broadcastShapes(node, [a2.slice(0, -2), b2.slice(0, -2)]);
  const out = [...batch];
  if (a.length > 1) out.push(m);
  if (b.length > 1) out.push(n);
  return { out, m, k, n, batch };
}

/** a x b for activations (either may be a view); 1-D operands promoted as MatMul does. */
function lowerMatMul(args: LowerArgs, a: ValueRef, b: ValueRef, outDims: number[]): ValueRef {
  const { ctx, node } = args;
  const { m, k, n, batch } = matmulDims(node, a.dims, b.dims);
  const out = ctx.arena('float32', outDims);
  if (elementCount(outDims) === 0) return out;
  const asMatrix = (r: ValueRef, promoted: number[]): ValueRef => {
    const dims = promoted;
    const strides = r.dims.length === 1 ? (dims[0] === 1 ? [0, r.strides[0]] : [r.strides[0], 0]) : r.strides;
    const view = { ...r, dims, strides };
    const rank = dims.length;
    const rowsDense = (dims[rank - 1] === 1 || strides[rank - 1] === 1) && (dims[rank - 2] === 1 || strides[rank - 2] === dims[rank - 1]);
    return rowsDense ? view : ctx.denseRef(view);
  };
  const a2 = asMatrix(a, a.dims.length === 1 ? [1, a.dims[0]] : a.dims);
  const b2 = asMatrix(b, b.dims.length === 1 ? [b.dims[0], 1] : b.dims);
  const aBatch = alignStrides(a2.dims.slice(0, -2), a2.strides.slice(0, -2), batch);
  const bBatch = alignStrides(b2.dims.slice(0, -2), b2.strides.slice(0, -2), batch);
  ctx.step('MatMul', [ctx.strided(a2), ctx.strided(b2)], [ctx.dense(out)],
    [m, k, n, batch.length, ...batch, ...aBatch, ...bBatch]);
  return out;
}

const matmul: OpDef = {
  infer(node, inputs) {
    const [a, b] = inputs as Shaped[];
    requireFloat(node, a, 'A');
    requireFloat(node, b, 'B');
    return [{ dtype: 'float32', dims: matmulDims(node, a.dims, b.dims).out }];
  },
  lower(args) {
    return [lowerMatMul(args, refOf(args, 0), refOf(args, 1), args.outputs[0].dims)];
  },
};

function transposed2d(r: ValueRef): ValueRef {
  return { ...r, dims: [r.dims[1], r.dims[0]], strides: [r.strides[1], r.strides[0]] };
}

const gemm: OpDef = {
  infer(node, inputs) {
    const [a, b] = inputs as Shaped[];
    if (a.dims.length !== 2 || b.dims.length !== 2) fail(node, 'Gemm needs 2-D A and B');
    requireFloat(node, a, 'A');
    requireFloat(node, b, 'B');
    const m = intAttr(node, 'transA', 0) ? a.dims[1] : a.dims[0];
    const n = intAttr(node, 'transB', 0) ? b.dims[0] : b.dims[1];
    return [{ dtype: 'float32', dims: [m, n] }];
  },
  lower(args) {
    const { ctx, node, outputs } = args;
    let a = refOf(args, 0), b = refOf(args, 1);
    if (intAttr(node, 'transA', 0)) a = transposed2d(a);
    if (intAttr(node, 'transB', 0)) b = transposed2d(b);
    let y = lowerMatMul(args, a, b, outputs[0].dims);
    const alpha = floatAttr(node, 'alpha', 1), beta = floatAttr(node, 'beta', 1);
    const scalar = (v: number): ValueRef => ctx.constant(undefined, { dtype: 'float32', dims: [], data: Float32Array.of(v) });
    if (alpha !== 1) y = lowerBinary(args, 'Mul', y, scalar(alpha), 'float32');
    if (args.shaped[2]) {
      let c = refOf(args, 2);
      if (beta !== 1) c = lowerBinary(args, 'Mul', c, scalar(beta), 'float32');
      y = lowerBinary(args, 'Add', y, c, 'float32');
    }
    return [y];
  },
};

function softmaxOp(logarithm: boolean): OpDef {
  return {
    infer(node, inputs) {
      requireFloat(node, inputs[0], 'the input');
      return [{ dtype: 'float32', dims: inputs[0]!.dims }];
    },
    lower(args) {
      const { ctx, node, opset } = args;
      const x = refOf(args, 0);
      const rank = x.dims.length;
      let axis = intAttr(node, 'axis', opset >= 13 ? -1 : 1);
      if (axis < 0) axis += rank;
      if (axis < 0 || axis >= Math.max(rank, 1)) fail(node, `axis out of range for rank ${rank}`);
      // Before opset 13 the input is flattened to 2-D at the axis.
      const outer = elementCount(x.dims.slice(0, axis));
      const n = opset >= 13 ? x.dims[axis] : elementCount(x.dims.slice(axis));
      const inner = opset >= 13 ? elementCount(x.dims.slice(axis + 1)) : 1;
      const out = ctx.arena('float32', x.dims);
      if (elementCount(x.dims) > 0) ctx.step('Softmax', [ctx.dense(x)], [ctx.dense(out)], [outer, n, inner, logarithm ? 1 : 0]);
      return [out];
    },
  };
}

const layerNorm: OpDef = {
  infer(node, inputs) {
    const [x, scale, bias] = inputs;
    requireFloat(node, x, 'X');
    requireFloat(node, scale, 'Scale');
    requireFloat(node, bias, 'B');
    const rank = x!.dims.length;
    let axis = intAttr(node, 'axis', -1);
    if (axis < 0) axis += rank;
    if (axis < 0 || axis >= rank) fail(node, `axis out of range for rank ${rank}`);
    const cols = elementCount(x!.dims.slice(axis));
    if (elementCount(scale!.dims) !== cols || (bias && elementCount(bias.dims) !== cols)) {
      fail(node, 'scale and bias must cover the normalized axes exactly');
    }
    const stats = [...x!.dims.slice(0, axis), ...x!.dims.slice(axis).map(() => 1)];
    return [{ dtype: 'float32', dims: x!.dims }, { dtype: 'float32', dims: stats }, { dtype: 'float32', dims: stats }];
  },
  lower(args) {
    const { ctx, node } = args;
    if (node.outputs.slice(1).some((o) => o !== '')) {
      // Mean and InvStdDev are training outputs; exporters do not use them.
      fail(node, 'the Mean and InvStdDev outputs are not supported');
    }
    const x = refOf(args, 0);
    let axis = intAttr(node, 'axis', -1);
    if (axis < 0) axis += x.dims.length;
    const rows = elementCount(x.dims.slice(0, axis)), cols = elementCount(x.dims.slice(axis));
    const out = ctx.arena('float32', x.dims);
    const inputs = [ctx.dense(x), ctx.dense(refOf(args, 1))];
    if (args.shaped[2]) inputs.push(ctx.dense(refOf(args, 2)));
    if (rows * cols > 0) ctx.step('LayerNorm', inputs, [ctx.dense(out)], [rows, cols], [floatAttr(node, 'epsilon', 1e-5)]);
    return [out];
  },
};

const REDUCE_KINDS: Record<string, number> = {
  ReduceMean: 0, ReduceSum: 1, ReduceMax: 2, ReduceMin: 3, ReduceProd: 4, ReduceSumSquare: 5, ReduceL2: 6,
};

function reduceAxes(node: IrNode, inputs: (Shaped | undefined)[], opset: number): number[] {
  const rank = inputs[0]!.dims.length;
  const fromInput = node.op === 'ReduceSum' ? opset >= 13 : opset >= 18;
  let axes: number[] | undefined;
  if (fromInput) {
    if (inputs[1] && !inputs[1].value) fail(node, 'axes computed from input data are not supported');
    axes = inputs[1] ? valuesOf(inputs[1].value!) : undefined;
  } else {
    axes = intsAttr(node, 'axes');
  }
  if (!axes || axes.length === 0) return intAttr(node, 'noop_with_empty_axes', 0) ? [] : inputs[0]!.dims.map((_, i) => i);
  return [...new Set(axes.map((a) => (a < 0 ? a + rank : a)))].sort((p, q) => p - q);
}

const reduce: OpDef = {
  constInputs: [1],
  infer(node, inputs, opset) {
    requireFloat(node, inputs[0], 'the input');
    const axes = new Set(reduceAxes(node, inputs, opset));
    const keep = intAttr(node, 'keepdims', 1) === 1;
    const dims = inputs[0]!.dims.flatMap((d, i) => (axes.has(i) ? (keep ? [1] : []) : [d]));
    return [{ dtype: 'float32', dims }];
  },
  lower(args) {
    const { ctx, node, shaped, opset, outputs } = args;
    const x = refOf(args, 0);
    const axes = reduceAxes(node, shaped, opset);
    const out = ctx.arena('float32', outputs[0].dims);
    if (axes.length === 0) {
      ctx.step('Copy', [ctx.dense(x)], [ctx.dense(out)]);
      return [out];
    }
    // Reduced axes moved last (a free view) unless they already are one contiguous run.
    const contiguous = axes[axes.length - 1] - axes[0] === axes.length - 1;
    const order = contiguous ? x.dims.map((_, i) => i) : [...x.dims.map((_, i) => i).filter((i) => !axes.includes(i)), ...axes];
    const view = { ...x, dims: order.map((i) => x.dims[i]), strides: order.map((i) => x.strides[i]) };
    const first = contiguous ? axes[0] : x.dims.length - axes.length;
    const outer = elementCount(view.dims.slice(0, first));
    const n = elementCount(view.dims.slice(first, first + axes.length));
    const inner = elementCount(view.dims.slice(first + axes.length));
    if (elementCount(outputs[0].dims) > 0) ctx.step('Reduce', [ctx.dense(view)], [ctx.dense(out)], [REDUCE_KINDS[node.op], outer, n, inner]);
    return [out];
  },
};

/** Native activation codes of Linear's epilogue (native/engine/op_codes.h). */
export const ACTIVATIONS: Record<string, number> = { None: 0, Relu: 1, Gelu: 2, GeluTanh: 3, Tanh: 4, Sigmoid: 5, Relu6: 6, HardSwish: 7 };

// Linear (engine op): inputs x [..., k], bias [n] (optional constant); attrs layer, k, n, activation.
const linear: OpDef = {
  infer(node, inputs) {
    const x = inputs[0]!;
    requireFloat(node, x, 'x');
    const k = intAttr(node, 'k', 0), n = intAttr(node, 'n', 0);
    if (x.dims.length === 0 || x.dims[x.dims.length - 1] !== k) fail(node, `x [${x.dims}] does not end in ${k}`);
    return [{ dtype: 'float32', dims: [...x.dims.slice(0, -1), n] }];
  },
  lower(args) {
    const { ctx, node, outputs } = args;
    const k = intAttr(node, 'k', 0), n = intAttr(node, 'n', 0);
    let x = refOf(args, 0);
    const m = elementCount(x.dims.slice(0, -1));
    // Rows evenly spaced with dense channels (e.g. the first token of each sequence) are read in place.
    const rowsView = x.dims.length === 2 && (k <= 1 || x.strides[1] === 1) && x.strides[0] >= k;
    if (!rowsView) x = ctx.denseRef(x);
    const lda = rowsView ? x.strides[0] : k;
    const out = ctx.arena('float32', outputs[0].dims);
    if (m * n === 0) return [out];
    const inputs = [ctx.strided(x)];
    if (args.shaped[1]) inputs.push(ctx.dense(refOf(args, 1)));
    ctx.step('Linear', inputs, [ctx.dense(out)], [m, k, n, ACTIVATIONS[String(node.attrs.activation ?? 'None')], m > 1 ? lda : k], [], intAttr(node, 'layer', -1));
    return [out];
  },
};

// Attention (engine op): inputs q [B,H,Sq,D], kT [B,H,D,Skv], v [B,H,Skv,D], mask (additive,
// broadcast to [B,H,Sq,Skv]); attrs scale, layout ('bhsd' output, or 'bshd': the output already
// transposed to [B,Sq,H,D]).
const attention: OpDef = {
  infer(node, inputs) {
    const [q, kT, v] = inputs as Shaped[];
    const [b, h, sq, d] = q.dims;
    if (kT.dims[2] !== d || v.dims[3] !== d || v.dims[2] !== kT.dims[3]) fail(node, 'q, k and v shapes do not match');
    return [{ dtype: 'float32', dims: node.attrs.layout === 'bshd' ? [b, sq, h, d] : [b, h, sq, d] }];
  },
  lower(args) {
    const { ctx, node, outputs } = args;
    const q = refOf(args, 0), kT = refOf(args, 1), v = refOf(args, 2);
    const [b, h, sq, d] = q.dims;
    const skv = kT.dims[3];
    const out = ctx.arena('float32', outputs[0].dims);
    const outStrides = node.attrs.layout === 'bshd'
      ? [out.strides[0], out.strides[2], out.strides[1], out.strides[3]]
      : out.strides;
    const kStrides = [kT.strides[0], kT.strides[1], kT.strides[3], kT.strides[2]];
    const inputs = [ctx.strided(q), ctx.strided(kT), ctx.strided(v)];
    let maskStrides = [0, 0, 0, 0];
    if (args.shaped[3]) {
      const mask = refOf(args, 3);
      maskStrides = alignStrides(mask.dims, mask.strides, [b, h, sq, skv]);
      inputs.push(ctx.strided(mask));
    }
    if (b * h * sq * d > 0) {
      ctx.step('Attention', inputs, [ctx.dense(out)],
        [b, h, sq, skv, d, ...q.strides, ...kStrides, ...v.strides, ...outStrides, ...maskStrides], [Number(node.attrs.scale)]);
    }
    return [out];
  },
};

export const NN_OPS: Record<string, OpDef> = {
  MatMul: matmul,
  Gemm: gemm,
  Softmax: softmaxOp(false),
  LogSoftmax: softmaxOp(true),
  LayerNormalization: layerNorm,
  ...Object.fromEntries(Object.keys(REDUCE_KINDS).map((op) => [op, reduce])),
};

export const ENGINE_OPS: Record<string, OpDef> = { Linear: linear, Attention: attention };
