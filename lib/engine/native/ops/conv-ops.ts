// Convolutions and pooling, run in NHWC: the input is laid out NHWC once (a StridedCopy, unless it
// already is), results stay NHWC behind a view with the model's NCHW dims, so conv -> activation ->
// conv chains never transpose. 1-D ops run as 2-D ones of height 1.
import type { DTypeName } from '../../../onnx/dtype';
import { elementCount } from '../../../onnx/tensor';
import { LoweringError } from '../errors';
import { floatAttr, intAttr, intsAttr, stringAttr, type IrNode } from '../ir';
import { packedOrder, type ValueRef } from '../lower-context';
import { valuesOf } from '../tensor-data';
import { lowerBinary, UNARY_KINDS } from './elementwise';
import { broadcastShapes } from './broadcast';
import { ACTIVATIONS } from './nn';
import type { LowerArgs, OpDef, OutputType, Shaped } from './types';

export const NHWC = [0, 2, 3, 1];

function fail(node: IrNode, reason: string): never {
  throw new LoweringError(node.name, node.op, reason);
}

interface Window {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** Begin and end padding per spatial axis. */
  begin: number[];
  end: number[];
  out: number[];
}

/** ONNX's output size and padding of a window over `spatial` (Conv and the pools; ceilMode for pools). */
function windowOf(node: IrNode, spatial: number[], kernel: number[], ceilMode = false): Window {
  const rank = spatial.length;
  if (kernel.length !== rank) fail(node, `a ${kernel.length}-D window over ${rank}-D input`);
  const strides = intsAttr(node, 'strides') ?? kernel.map(() => 1);
  const dilations = intsAttr(node, 'dilations') ?? kernel.map(() => 1);
  const autoPad = stringAttr(node, 'auto_pad', 'NOTSET');
  const pads = intsAttr(node, 'pads') ?? new Array<number>(2 * rank).fill(0);
  const begin: number[] = [], end: number[] = [], out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const extent = (kernel[i] - 1) * dilations[i] + 1;
    if (strides[i] < 1 || dilations[i] < 1 || kernel[i] < 1) fail(node, 'strides, dilations and kernel sizes must be positive');
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const o = Math.ceil(spatial[i] / strides[i]);
      const total = Math.max(0, (o - 1) * strides[i] + extent - spatial[i]);
      const small = Math.floor(total / 2);
      begin.push(autoPad === 'SAME_UPPER' ? small : total - small);
      end.push(total - begin[i]);
      out.push(o);
      continue;
    }
    const [b, e] = autoPad === 'VALID' ? [0, 0] : [pads[i], pads[i + rank]];
    const span = spatial[i] + b + e - extent;
    let o = (ceilMode ? Math.ceil(span / strides[i]) : Math.floor(span / strides[i])) + 1;
    // A last window that would start in the end padding is dropped (as onnxruntime and PyTorch do).
    if (ceilMode && (o - 1) * strides[i] >= spatial[i] + b) o--;
    begin.push(b);
    end.push(e);
    out.push(o);
  }
  if (out.some((o) => o < 1)) fail(node, `the window does not fit input [${spatial}]`);
  return { kernel, strides, dilations, begin, end, out };
}

/** `x` as a 4-D NCHW view (a 1-D op's input gets height 1). */
export function as4d(x: ValueRef): ValueRef {
  if (x.dims.length === 4) return x;
  return { ...x, dims: [x.dims[0], x.dims[1], 1, x.dims[2]], strides: [x.strides[0], x.strides[1], 0, x.strides[2]] };
}

/** Window attributes as 2-D (height 1 for 1-D ops). */
function as2dWindow(w: Window): Window {
  if (w.kernel.length === 2) return w;
  return {
    kernel: [1, w.kernel[0]], strides: [1, w.strides[0]], dilations: [1, w.dilations[0]],
    begin: [0, w.begin[0]], end: [0, w.end[0]], out: [1, w.out[0]],
  };
}

/** The geometry ints every native window step starts with. */
function geometry(x4: readonly number[], w: Window, outChannels: number): number[] {
  const [n, c, h, wd] = x4;
  return [n, h, wd, c, w.out[0], w.out[1], outChannels, w.kernel[0], w.kernel[1], w.strides[0], w.strides[1],
    w.begin[0], w.begin[1], w.end[0], w.end[1], w.dilations[0], w.dilations[1]];
}

export function refOf(args: LowerArgs, i: number): ValueRef {
  return args.inputs[i] ?? args.ctx.constant(args.shaped[i]!.name, args.shaped[i]!.value!);
}

/** Runs `step` on x laid out NHWC and returns the result as an NCHW-dimmed view of NHWC memory. */
function lowerWindowStep(args: LowerArgs, op: string, window: Window, outChannels: number,
  extraInputs: number[], ints: number[], floats: number[] = [], linear = -1, scratchElements = 0): ValueRef[] {
  const { ctx, outputs } = args;
  const x = refOf(args, 0);
  const x4 = as4d(x);
  const w2 = as2dWindow(window);
  const dims4 = [x4.dims[0], outChannels, w2.out[0], w2.out[1]];
  const out = ctx.arenaInOrder(outputs[0].dtype, dims4, NHWC);
  if (elementCount(dims4) > 0 && elementCount(x4.dims) > 0) {
    const xh = ctx.packedIn(x4, NHWC);
    const scratch = scratchElements > 0 ? [ctx.flat(ctx.arena('float32', [scratchElements]))] : [];
    ctx.step(op, [ctx.flat(xh), ...extraInputs], [ctx.flat(out), ...scratch], [...geometry(x4.dims, w2, outChannels), ...ints], floats, linear);
  }
  if (x.dims.length === 4) return [out];
  return [{ ...out, dims: [dims4[0], dims4[1], dims4[3]], strides: [out.strides[0], out.strides[1], out.strides[3]] }];
}

export function requireSpatial(node: IrNode, x: Shaped | undefined): Shaped {
  if (!x || (x.dims.length !== 3 && x.dims.length !== 4)) fail(node, 'only 1-D and 2-D inputs ([N, C, L] or [N, C, H, W]) are supported');
  return x;
}

function convInfer(node: IrNode, inputs: (Shaped | undefined)[]): OutputType[] {
  const x = requireSpatial(node, inputs[0]);
  const kernel = node.attrs.kernel as number[];
  const groups = intAttr(node, 'groups', 1);
  const outChannels = intAttr(node, 'outChannels', 0);
  const w = windowOf(node, x.dims.slice(2), kernel);
  if (x.dims[1] % groups !== 0) fail(node, `${x.dims[1]} input channels do not split into ${groups} groups`);
  return [{ dtype: 'float32', dims: [x.dims[0], outChannels, ...w.out] }];
}

function activationOf(node: IrNode): number {
  return ACTIVATIONS[String(node.attrs.activation ?? 'None')];
}

/** [scale, shift] applied after the activation (the fused "affine" Mul/Add), or none. */
function postAffineOf(node: IrNode): number[] {
  return node.attrs.postScale === undefined ? [] : [floatAttr(node, 'postScale', 1), floatAttr(node, 'postShift', 0)];
}

/** The Unary step an engine activation is, for when it cannot run in an epilogue. */
const UNARY_ACTIVATIONS: Record<string, [string, number, number]> = {
  Relu: ['Relu', 0, 0], Gelu: ['Gelu', 0, 0], GeluTanh: ['GeluTanh', 0, 0], Tanh: ['Tanh', 0, 0], Sigmoid: ['Sigmoid', 0, 0],
  Relu6: ['Clip', 0, 6], HardSwish: ['HardSwish', 0, 0],
};

/**
 * Engine Conv: inputs x, bias, residual (optional: added before the activation); attrs kernel, strides,
 * pads, dilations, auto_pad, groups, outChannels, layer, activation. A residual whose shape is not the
 * output's (it broadcasts) gets its own Add and activation steps after the conv.
 */
const conv: OpDef = {
  infer(node, inputs) {
    if (inputs[0]!.dtype !== 'float32') fail(node, 'the input must be float32');
    const groups = intAttr(node, 'groups', 1);
    if (inputs[0]!.dims[1] % groups !== 0) fail(node, 'channels do not split into the groups');
    const [out] = convInfer(node, inputs);
    const residual = inputs[2];
    if (residual && residual.dtype !== 'float32') fail(node, 'the residual must be float32');
    return [residual ? { ...out, dims: broadcastShapes(node, [out.dims, residual.dims]) } : out];
  },
  lower(args) {
    const { node, shaped, ctx } = args;
    const w = windowOf(node, shaped[0]!.dims.slice(2), node.attrs.kernel as number[]);
    const extra = shaped[1] ? [ctx.dense(refOf(args, 1))] : [];
    const layer = intAttr(node, 'layer', -1), outChannels = intAttr(node, 'outChannels', 0), groups = intAttr(node, 'groups', 1);
    const residual = shaped[2] ? refOf(args, 2) : undefined;
    const outDims = [shaped[0]!.dims[0], outChannels, ...w.out];
    if (!residual || residual.dims.join() === outDims.join()) {
      if (residual) {
        if (!shaped[1]) extra.push(-1);
        extra.push(ctx.flat(ctx.packedIn(as4d(residual), NHWC)));
      }
      return lowerWindowStep(args, 'Conv', w, outChannels, extra, [groups, activationOf(node)], postAffineOf(node), layer);
    }
    const [y] = lowerWindowStep({ ...args, outputs: [{ dtype: 'float32', dims: outDims }] }, 'Conv', w, outChannels, extra, [groups, 0], [], layer);
    const sum = lowerBinary(args, 'Add', y, residual, 'float32');
    const activation = UNARY_ACTIVATIONS[String(node.attrs.activation ?? 'None')];
    if (!activation) return [sum];
    const order = packedOrder(sum);
    const out = ctx.arenaInOrder('float32', sum.dims, order ?? sum.dims.map((_, i) => i));
    ctx.step('Unary', [ctx.flat(order ? sum : ctx.denseRef(sum))], [ctx.flat(out)], [UNARY_KINDS[activation[0]]], [activation[1], activation[2]]);
    return [out];
  },
};

/**
 * Engine QConv: inputs xq (uint8/int8), bias (optional); attrs as Conv plus scale and zeroPoint. With
 * outScale (lookup-fusion.ts): input 2 is the code table, the output holds codes of type outType,
 * quantized with outScale, outZeroPoint, outSigned before the table.
 */
const qconv: OpDef = {
  infer(node, inputs) {
    const t = inputs[0]!.dtype;
    if (t !== 'uint8' && t !== 'int8') fail(node, 'the quantized input must be uint8 or int8');
    const [out] = convInfer(node, inputs);
    return [node.attrs.outScale === undefined ? out : { ...out, dtype: String(node.attrs.outType) as DTypeName }];
  },
  lower(args) {
    const { node, shaped, ctx } = args;
    const w = windowOf(node, shaped[0]!.dims.slice(2), node.attrs.kernel as number[]);
    const ints = [intAttr(node, 'groups', 1), activationOf(node), intAttr(node, 'zeroPoint', 0)];
    const floats = [floatAttr(node, 'scale', 1)];
    const extra = shaped[1] ? [ctx.dense(refOf(args, 1))] : [];
    if (node.attrs.outScale !== undefined) {
      if (!shaped[1]) extra.push(-1);
      extra.push(ctx.dense(refOf(args, 2)));
      ints.push(intAttr(node, 'outZeroPoint', 0), intAttr(node, 'outSigned', 0));
      floats.push(floatAttr(node, 'outScale', 1));
    }
    return lowerWindowStep(args, 'QConv', w, intAttr(node, 'outChannels', 0), extra, ints, floats, intAttr(node, 'layer', -1));
  },
};

/** Engine DepthwiseConv: inputs x, weights ([...kernel, C]), bias. */
const depthwise: OpDef = {
  infer(node, inputs) {
    if (inputs[0]!.dtype !== 'float32') fail(node, 'the input must be float32');
    return convInfer(node, inputs);
  },
  lower(args) {
    const { node, shaped, ctx } = args;
    const w = windowOf(node, shaped[0]!.dims.slice(2), node.attrs.kernel as number[]);
    const extra = [ctx.dense(refOf(args, 1)), ...(shaped[2] ? [ctx.dense(refOf(args, 2))] : [])];
    return lowerWindowStep(args, 'DepthwiseConv', w, shaped[0]!.dims[1], extra, [activationOf(node)], postAffineOf(node));
  },
};

/**
 * ONNX ConvTranspose's output size and padding (the pads at the output's begin and end), with
 * output_shape and auto_pad resolved as onnxruntime does.
 */
function transposedWindowOf(node: IrNode, spatial: number[], kernel: number[]): Window {
  const rank = spatial.length;
  if (kernel.length !== rank) fail(node, `a ${kernel.length}-D kernel over ${rank}-D input`);
  const ones = kernel.map(() => 1), zeros = kernel.map(() => 0);
  const strides = intsAttr(node, 'strides') ?? ones;
  const dilations = intsAttr(node, 'dilations') ?? ones;
  const outputPadding = intsAttr(node, 'output_padding') ?? zeros;
  const outputShape = intsAttr(node, 'output_shape');
  const autoPad = stringAttr(node, 'auto_pad', 'NOTSET');
  const pads = intsAttr(node, 'pads') ?? new Array<number>(2 * rank).fill(0);
  const begin: number[] = [], end: number[] = [], out: number[] = [];
  for (let i = 0; i < rank; i++) {
    if (strides[i] < 1 || dilations[i] < 1 || kernel[i] < 1) fail(node, 'strides, dilations and kernel sizes must be positive');
    const full = strides[i] * (spatial[i] - 1) + outputPadding[i] + (kernel[i] - 1) * dilations[i] + 1;
    const same = autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER';
    if (outputShape || same) {
      const o = outputShape ? outputShape[outputShape.length - rank + i] : spatial[i] * strides[i];
      const total = Math.max(0, full - o);
      const small = Math.floor(total / 2);
      // As onnxruntime splits it: the odd one at the end for SAME_UPPER, at the begin otherwise.
      begin.push(autoPad === 'SAME_UPPER' ? small : total - small);
      end.push(total - begin[i]);
      out.push(o);
      continue;
    }
    const [b, e] = autoPad === 'VALID' ? [0, 0] : [pads[i], pads[i + rank]];
    begin.push(b);
    end.push(e);
    out.push(full - b - e);
  }
  if (out.some((o) => o < 1)) fail(node, `the output of input [${spatial}] would be empty`);
  return { kernel, strides, dilations, begin, end, out };
}

/** Engine ConvTranspose: inputs x, bias; attrs as ONNX's plus kernel, groups, outChannels, layer, activation. */
const convTranspose: OpDef = {
  infer(node, inputs) {
    const x = requireSpatial(node, inputs[0]);
    if (x.dtype !== 'float32') fail(node, 'the input must be float32');
    if (x.dims[1] % intAttr(node, 'groups', 1) !== 0) fail(node, 'channels do not split into the groups');
    const w = transposedWindowOf(node, x.dims.slice(2), node.attrs.kernel as number[]);
    return [{ dtype: 'float32', dims: [x.dims[0], intAttr(node, 'outChannels', 0), ...w.out] }];
  },
  lower(args) {
    const { node, shaped, ctx } = args;
    const x = shaped[0]!;
    const kernel = node.attrs.kernel as number[];
    const w = transposedWindowOf(node, x.dims.slice(2), kernel);
    const outChannels = intAttr(node, 'outChannels', 0);
    const taps = kernel.reduce((p, d) => p * d, 1);
    const bias = shaped[1] ? [ctx.dense(refOf(args, 1))] : [];
    return lowerWindowStep(args, 'ConvTranspose', w, outChannels, bias, [intAttr(node, 'groups', 1), activationOf(node)], [],
      intAttr(node, 'layer', -1), elementCount(x.dims.slice(0, 1).concat(x.dims.slice(2))) * taps * outChannels);
  },
};

function pool(kind: 'max' | 'average', global: boolean): OpDef {
  const windowFor = (node: IrNode, x: Shaped): Window => {
    if (global) {
      const spatial = x.dims.slice(2);
      return { kernel: spatial, strides: spatial.map(() => 1), dilations: spatial.map(() => 1), begin: spatial.map(() => 0), end: spatial.map(() => 0), out: spatial.map(() => 1) };
    }
    const kernel = intsAttr(node, 'kernel_shape');
    if (!kernel) fail(node, 'no kernel_shape');
    if (kind === 'max' && node.outputs[1]) fail(node, 'the Indices output is not supported');
    return windowOf(node, x.dims.slice(2), kernel, intAttr(node, 'ceil_mode', 0) === 1);
  };
  return {
    infer(node, inputs) {
      const x = requireSpatial(node, inputs[0]);
      if (x.dtype !== 'float32') fail(node, 'the input must be float32');
      return [{ dtype: 'float32', dims: [x.dims[0], x.dims[1], ...windowFor(node, x).out] }];
    },
    lower(args) {
      const { node, shaped } = args;
      const x = shaped[0]!;
      if (x.dims.slice(2).some((d) => d === 0)) fail(node, 'pooling over an empty plane');
      return lowerWindowStep(args, 'Pool', windowFor(node, x), x.dims[1], [],
        [kind === 'max' ? 0 : 1, intAttr(node, 'count_include_pad', 0)]);
    },
  };
}

/** BatchNormalization not folded into a Conv: y = x * a + b per channel, a and b computed once. */
const batchNorm: OpDef = {
  infer(node, inputs) {
    const x = inputs[0]!;
    if (x.dtype !== 'float32' || x.dims.length < 2) fail(node, 'needs float32 [N, C, ...] input');
    if (intAttr(node, 'training_mode', 0)) fail(node, 'training mode is not supported');
    if (inputs.slice(1, 5).some((s) => !s || !s.value || elementCount(s.dims) !== x.dims[1])) fail(node, 'scale, B, mean and var must be constants of C values');
    return [{ dtype: 'float32', dims: x.dims }];
  },
  lower(args) {
    const { ctx, node, shaped } = args;
    const x = refOf(args, 0);
    const [scale, shift, mean, variance] = [1, 2, 3, 4].map((i) => valuesOf(shaped[i]!.value!));
    const epsilon = floatAttr(node, 'epsilon', 1e-5);
    const c = x.dims[1];
    const a = new Float32Array(c), b = new Float32Array(c);
    for (let i = 0; i < c; i++) {
      a[i] = scale[i] / Math.sqrt(variance[i] + epsilon);
      b[i] = shift[i] - mean[i] * a[i];
    }
    const channelDims = [c, ...x.dims.slice(2).map(() => 1)];
    const scaled = lowerBinary(args, 'Mul', x, ctx.constant(undefined, { dtype: 'float32', dims: channelDims, data: a }), 'float32');
    return [lowerBinary(args, 'Add', scaled, ctx.constant(undefined, { dtype: 'float32', dims: channelDims, data: b }), 'float32')];
  },
};

export const CONV_OPS: Record<string, OpDef> = {
  MaxPool: pool('max', false),
  AveragePool: pool('average', false),
  GlobalAveragePool: pool('average', true),
  GlobalMaxPool: pool('max', true),
  BatchNormalization: batchNorm,
};

export const ENGINE_CONV_OPS: Record<string, OpDef> = { Conv: conv, QConv: qconv, DepthwiseConv: depthwise, ConvTranspose: convTranspose };
