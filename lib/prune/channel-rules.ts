// How channels flow through each op: which ops keep channels apart (so the channels can be followed),
// which constants lose the same channels, and where the flow ends (the next MatMul/Gemm/Conv).
// Axes of channel values are negative (counted from the end), which survives numpy broadcasting.
import { getAttribute } from '../onnx/attributes';
import { dtypeInfo } from '../onnx/dtype';
import type { NodeRef } from '../onnx/model';
import type { SpaceSet } from './channel-spaces';
import type { ConstantIndex, ConstantRef } from './constants';

export interface ChannelValue {
  space: number;
  /** Negative axis of the channel dimension. */
  axis: number;
  rank: number | undefined;
  /** 'channel': the axis holds the space's channels. 'reduced': a mean over them (size 1 on the axis). */
  kind: 'channel' | 'reduced';
  /** Every dimension after the channel axis is 1 (after global pooling). */
  onesAfter: boolean;
}

export interface FollowContext {
  spaces: SpaceSet;
  constants: ConstantIndex;
  ref: NodeRef;
  /** Channel value of each input (undefined for inputs that carry none). */
  inputs: (ChannelValue | undefined)[];
  /** Dims stated for a value that is not a constant, when known. */
  declaredDims(name: string): (number | string)[] | undefined;
  rankOf(name: string): number | undefined;
  hasReaders(name: string): boolean;
  setOutput(index: number, value: ChannelValue): void;
}

/** A rule returns nothing when it followed the node, else the reason it cannot. */
type Rule = (ctx: FollowContext) => string | undefined;

const UNARY = [
  'Relu', 'LeakyRelu', 'Elu', 'Selu', 'Celu', 'Gelu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Softplus', 'Softsign',
  'Mish', 'Erf', 'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Abs', 'Neg', 'Sign', 'Floor', 'Ceil', 'Round', 'Sin', 'Cos',
  'Identity', 'Cast', 'Clip', 'Dropout', 'ThresholdedRelu', 'Shrink', 'Not', 'IsNaN', 'IsInf',
];
const BROADCAST = [
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'PRelu', 'Where', 'Mod',
  'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor',
];
const ELEMENTWISE = new Set([...UNARY, ...BROADCAST]);
const POOLS = new Set(['MaxPool', 'AveragePool', 'LpPool', 'GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool']);
const REDUCE = new Set([
  'ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2',
  'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare',
]);

const label = (ctx: FollowContext): string => `${ctx.ref.node.opType} "${ctx.ref.node.name || ctx.ref.node.output[0]}"`;
const intAttr = (ctx: FollowContext, name: string, fallback: number): number => (getAttribute(ctx.ref.node, name) as number | undefined) ?? fallback;

function sliceable(c: ConstantRef): boolean {
  const info = dtypeInfo(c.dtype);
  return info.bits >= 8 && info.lanes === 1 && info.name !== 'string';
}

/** The one channel-kind input a rule expects at index 0, with no channels on other inputs. */
function soleChannelInput(ctx: FollowContext): ChannelValue | string {
  const x = ctx.inputs[0];
  if (!x || x.kind !== 'channel' || ctx.inputs.some((v, i) => i > 0 && v)) return `channels reach an input of ${label(ctx)} it cannot follow`;
  return x;
}

/** Outputs past the first (training statistics, pool indices) must be unused. */
function extraOutputsUnused(ctx: FollowContext): string | undefined {
  const used = ctx.ref.node.output.slice(1).find((o) => o !== '' && ctx.hasReaders(o));
  return used && `${label(ctx)} output "${used}" is used`;
}

/** A constant input aligned to a channel axis by broadcasting: untouched when size 1 there, sliced when it holds the channels. */
function alignConstant(ctx: FollowContext, index: number, axis: number, space: number): string | undefined {
  const name = ctx.ref.node.input[index];
  const c = ctx.constants.lookup(name, ctx.ref.graph);
  const channels = ctx.spaces.get(space).channels;
  if (c) {
    const p = c.dims.length + axis;
    if (p < 0 || c.dims[p] === 1) return undefined;
    if (c.dims[p] !== channels) return `constant "${name}" of ${label(ctx)} has ${c.dims[p]} entries on the channel axis, not ${channels}`;
    if (!sliceable(c)) return `constant "${name}" of ${label(ctx)} is ${c.dtype}`;
    ctx.spaces.get(space).slices.push({ ref: ctx.ref, input: index, axis: p });
    return undefined;
  }
  const dims = ctx.declaredDims(name);
  const p = dims ? dims.length + axis : undefined;
  if (dims && p !== undefined && (p < 0 || dims[p] === 1)) return undefined;
  return `${label(ctx)} combines the channels with "${name}", which carries channels of its own (a residual or other branch that is not pruned with them)`;
}

/** Axes (attribute or constant input) as negative axes; undefined when absent. */
function axesOf(ctx: FollowContext, inputIndex: number, rank: number | undefined): number[] | undefined | string {
  const name = ctx.ref.node.input[inputIndex] ?? '';
  let axes: number[] | undefined;
  if (name !== '') {
    const c = ctx.constants.lookup(name, ctx.ref.graph);
    if (!c) return `axes of ${label(ctx)} are computed at run time`;
    axes = Array.from(ctx.constants.values(c) as ArrayLike<number | bigint>, Number);
  } else {
    axes = getAttribute(ctx.ref.node, 'axes') as number[] | undefined;
  }
  if (!axes) return undefined;
  if (axes.some((a) => a >= 0) && rank === undefined) return `the rank reaching ${label(ctx)} is unknown`;
  return axes.map((a) => (a >= 0 ? a - (rank as number) : a));
}

const elementwise: Rule = (ctx) => {
  const present = ctx.inputs.filter((v): v is ChannelValue => v !== undefined);
  const axis = present[0].axis;
  if (present.some((v) => v.axis !== axis)) return `${label(ctx)} combines channels on different axes`;
  const channelInputs = present.filter((v) => v.kind === 'channel');
  const space = channelInputs.length
    ? channelInputs.reduce((s, v) => ctx.spaces.merge(s, v.space), channelInputs[0].space)
    : present[0].space;
  let rank: number | undefined = 0;
  let onesAfter = true;
  for (let i = 0; i < ctx.ref.node.input.length; i++) {
    const name = ctx.ref.node.input[i];
    if (name === '') continue;
    const v = ctx.inputs[i];
    if (v) {
      rank = v.rank === undefined || rank === undefined ? undefined : Math.max(rank, v.rank);
      onesAfter &&= v.onesAfter || axis === -1;
      continue;
    }
    const failure = alignConstant(ctx, i, axis, space);
    if (failure) return failure;
    const dims = ctx.constants.lookup(name, ctx.ref.graph)?.dims ?? ctx.declaredDims(name);
    rank = dims === undefined || rank === undefined ? undefined : Math.max(rank, dims.length);
    onesAfter &&= dims !== undefined && dims.slice(Math.max(0, dims.length + axis + 1)).every((d) => d === 1);
  }
  const kind = channelInputs.length ? 'channel' : 'reduced';
  ctx.ref.node.output.forEach((o, i) => o !== '' && ctx.setOutput(i, { space, axis, rank, kind, onesAfter }));
  return undefined;
};

/** LayerNormalization and RMS norms: scale and bias lose the channels; statistics change when the channels are normalized. */
const normalization: Rule = (ctx) => {
  const x = soleChannelInput(ctx);
  if (typeof x === 'string') return x;
  const axisAttr = intAttr(ctx, 'axis', -1);
  if (axisAttr >= 0 && x.rank === undefined) return `the rank reaching ${label(ctx)} is unknown`;
  const first = axisAttr >= 0 ? axisAttr - (x.rank as number) : axisAttr;
  for (let i = 1; i < ctx.ref.node.input.length; i++) {
    if (ctx.ref.node.input[i] === '') continue;
    if (!ctx.constants.lookup(ctx.ref.node.input[i], ctx.ref.graph)) return `scale or bias of ${label(ctx)} is not a constant`;
    const failure = alignConstant(ctx, i, x.axis, x.space);
    if (failure) return failure;
  }
  const unused = extraOutputsUnused(ctx);
  if (unused) return unused;
  if (x.axis >= first) ctx.spaces.get(x.space).statisticsChanged = true;
  ctx.setOutput(0, { ...x });
  return undefined;
};

/** Ops that treat axis 1 as channels: BatchNormalization, InstanceNormalization and pools. */
function channelAxisIsOne(ctx: FollowContext, x: ChannelValue): string | undefined {
  if (x.rank === undefined) return `the rank reaching ${label(ctx)} is unknown`;
  if (x.rank + x.axis !== 1) return `${label(ctx)} works on axis 1, the channels are on axis ${x.rank + x.axis}`;
  return undefined;
}

const perChannelNorm: Rule = (ctx) => {
  const x = soleChannelInput(ctx);
  if (typeof x === 'string') return x;
  const wrongAxis = channelAxisIsOne(ctx, x);
  if (wrongAxis) return wrongAxis;
  if (intAttr(ctx, 'training_mode', 0) === 1) return `${label(ctx)} runs in training mode`;
  const space = ctx.spaces.get(x.space);
  for (let i = 1; i < ctx.ref.node.input.length; i++) {
    const c = ctx.constants.lookup(ctx.ref.node.input[i], ctx.ref.graph);
    if (!c || c.dims.length !== 1 || c.dims[0] !== space.channels || !sliceable(c)) return `parameter "${ctx.ref.node.input[i]}" of ${label(ctx)} is not a constant per channel`;
    space.slices.push({ ref: ctx.ref, input: i, axis: 0 });
  }
  const unused = extraOutputsUnused(ctx);
  if (unused) return unused;
  ctx.setOutput(0, { ...x });
  return undefined;
};

const pool: Rule = (ctx) => {
  const x = soleChannelInput(ctx);
  if (typeof x === 'string') return x;
  const wrongAxis = channelAxisIsOne(ctx, x);
  if (wrongAxis) return wrongAxis;
  const unused = extraOutputsUnused(ctx);
  if (unused) return unused;
  ctx.setOutput(0, { ...x, onesAfter: x.onesAfter || ctx.ref.node.opType.startsWith('Global') });
  return undefined;
};

/** Reductions over other axes keep the channels; a mean over the channel axis (a decomposed LayerNorm) is a statistic of them. */
const reduce: Rule = (ctx) => {
  const x = soleChannelInput(ctx);
  if (typeof x === 'string') return x;
  const axes = axesOf(ctx, 1, x.rank);
  if (typeof axes === 'string') return axes;
  const keepdims = intAttr(ctx, 'keepdims', 1) === 1;
  if (!axes || axes.length === 0) {
    if (intAttr(ctx, 'noop_with_empty_axes', 0) === 1) {
      ctx.setOutput(0, { ...x });
      return undefined;
    }
  }
  const all = !axes || axes.length === 0;
  if (all || (axes as number[]).includes(x.axis)) {
    if (ctx.ref.node.opType !== 'ReduceMean' || !keepdims) return `${label(ctx)} reduces over the channel axis`;
    ctx.spaces.get(x.space).statisticsChanged = true;
    ctx.setOutput(0, { ...x, kind: 'reduced' });
    return undefined;
  }
  const list = axes as number[];
  if (keepdims) ctx.setOutput(0, { ...x });
  else {
    const after = list.filter((a) => a > x.axis).length;
    ctx.setOutput(0, { ...x, axis: x.axis + after, rank: x.rank === undefined ? undefined : x.rank - list.length, onesAfter: x.onesAfter || x.axis + after === -1 });
  }
  return undefined;
};

const flatten: Rule = (ctx) => {
  const x = soleChannelInput(ctx);
  if (typeof x === 'string') return x;
  if (x.rank === undefined) return `the rank reaching ${label(ctx)} is unknown`;
  const attr = intAttr(ctx, 'axis', 1);
  const k = attr < 0 ? attr + x.rank : attr;
  const c = x.rank + x.axis;
  if (k !== c || !(x.onesAfter || c === x.rank - 1)) return `${label(ctx)} would mix the channels with other dimensions`;
  ctx.setOutput(0, { ...x, axis: -1, rank: 2, onesAfter: true });
  return undefined;
};

const squeeze: Rule = (ctx) => {
  const x = soleChannelInput(ctx);
  if (typeof x === 'string') return x;
  const axes = axesOf(ctx, 1, x.rank);
  if (typeof axes === 'string') return axes;
  if (!axes) return `${label(ctx)} squeezes dims known only at run time`;
  if (axes.includes(x.axis)) return `${label(ctx)} squeezes the channel axis`;
  const axis = x.axis + axes.filter((a) => a > x.axis).length;
  ctx.setOutput(0, { ...x, axis, rank: x.rank === undefined ? undefined : x.rank - axes.length, onesAfter: x.onesAfter || axis === -1 });
  return undefined;
};

const unsqueeze: Rule = (ctx) => {
  const x = soleChannelInput(ctx);
  if (typeof x === 'string') return x;
  if (x.rank === undefined) return `the rank reaching ${label(ctx)} is unknown`;
  const name = ctx.ref.node.input[1] ?? '';
  const c = name === '' ? undefined : ctx.constants.lookup(name, ctx.ref.graph);
  if (name !== '' && !c) return `axes of ${label(ctx)} are computed at run time`;
  const raw = c ? Array.from(ctx.constants.values(c) as ArrayLike<number | bigint>, Number) : (getAttribute(ctx.ref.node, 'axes') as number[] | undefined) ?? [];
  const outRank = x.rank + raw.length;
  const inserted = new Set(raw.map((a) => (a < 0 ? a + outRank : a)));
  let seen = -1;
  let position = -1;
  for (let j = 0; j < outRank; j++) {
    if (inserted.has(j)) continue;
    if (++seen === x.rank + x.axis) position = j;
  }
  ctx.setOutput(0, { ...x, axis: position - outRank, rank: outRank });
  return undefined;
};

const transpose: Rule = (ctx) => {
  const x = soleChannelInput(ctx);
  if (typeof x === 'string') return x;
  const perm = getAttribute(ctx.ref.node, 'perm') as number[] | undefined;
  const rank = perm?.length ?? x.rank;
  if (rank === undefined) return `the rank reaching ${label(ctx)} is unknown`;
  const order = perm ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  const j = order.indexOf(rank + x.axis);
  ctx.setOutput(0, { ...x, axis: j - rank, rank, onesAfter: j === rank - 1 });
  return undefined;
};

/** Conv reading the channels: a plain Conv ends the flow (its filters lose input channels); a depthwise Conv keeps them apart. */
const conv: Rule = (ctx) => {
  const x = soleChannelInput(ctx);
  if (typeof x === 'string') return x;
  const w = ctx.constants.lookup(ctx.ref.node.input[1], ctx.ref.graph);
  if (!w || !sliceable(w)) return `${label(ctx)} has no constant weight`;
  if (x.axis !== 1 - w.dims.length) return `${label(ctx)} reads channels on axis 1, they are on axis ${w.dims.length + x.axis}`;
  const space = ctx.spaces.get(x.space);
  const group = intAttr(ctx, 'group', 1);
  if (group === 1 && w.dims[1] === space.channels) {
    space.slices.push({ ref: ctx.ref, input: 1, axis: 1 });
    space.consumers.push(ctx.ref.node.name || w.name);
    return undefined;
  }
  if (group === space.channels && w.dims[0] === space.channels && w.dims[1] === 1) {
    space.slices.push({ ref: ctx.ref, input: 1, axis: 0 });
    const bias = ctx.ref.node.input[2] ?? '';
    if (bias !== '') {
      const b = ctx.constants.lookup(bias, ctx.ref.graph);
      if (!b || !sliceable(b)) return `bias of ${label(ctx)} is not a constant`;
      space.slices.push({ ref: ctx.ref, input: 2, axis: 0 });
    }
    space.depthwise.push(ctx.ref.node);
    space.followed.add('Conv (depthwise)');
    ctx.setOutput(0, { ...x, rank: w.dims.length, onesAfter: false });
    return undefined;
  }
  return `${label(ctx)} is a grouped convolution (group ${group})`;
};

const convTranspose: Rule = (ctx) => {
  const x = soleChannelInput(ctx);
  if (typeof x === 'string') return x;
  const w = ctx.constants.lookup(ctx.ref.node.input[1], ctx.ref.graph);
  if (!w || !sliceable(w)) return `${label(ctx)} has no constant weight`;
  if (x.axis !== 1 - w.dims.length) return `${label(ctx)} reads channels on axis 1, they are on axis ${w.dims.length + x.axis}`;
  if (intAttr(ctx, 'group', 1) !== 1) return `${label(ctx)} is a grouped convolution`;
  const space = ctx.spaces.get(x.space);
  space.slices.push({ ref: ctx.ref, input: 1, axis: 0 });
  space.consumers.push(ctx.ref.node.name || w.name);
  return undefined;
};

const matmul: Rule = (ctx) => {
  const x = soleChannelInput(ctx);
  if (typeof x === 'string') return x;
  const w = ctx.constants.lookup(ctx.ref.node.input[1], ctx.ref.graph);
  if (!w || w.dims.length < 2 || !sliceable(w)) return `${label(ctx)} multiplies the channels by a value that is not a constant matrix`;
  if (x.axis !== -1) return `${label(ctx)} reduces over the last axis, the channels are on axis ${x.axis}`;
  const space = ctx.spaces.get(x.space);
  space.slices.push({ ref: ctx.ref, input: 1, axis: w.dims.length - 2 });
  space.consumers.push(ctx.ref.node.name || w.name);
  return undefined;
};

const gemm: Rule = (ctx) => {
  const x = soleChannelInput(ctx);
  if (typeof x === 'string') return x;
  const w = ctx.constants.lookup(ctx.ref.node.input[1], ctx.ref.graph);
  if (!w || w.dims.length !== 2 || !sliceable(w)) return `${label(ctx)} has no constant B`;
  const transA = intAttr(ctx, 'transA', 0) === 1;
  if (x.axis !== (transA ? -2 : -1)) return `${label(ctx)} reduces over another axis than the channels`;
  const space = ctx.spaces.get(x.space);
  space.slices.push({ ref: ctx.ref, input: 1, axis: intAttr(ctx, 'transB', 0) === 1 ? 1 : 0 });
  space.consumers.push(ctx.ref.node.name || w.name);
  return undefined;
};

const RULES: Record<string, Rule> = {
  LayerNormalization: normalization, RMSNormalization: normalization, SimplifiedLayerNormalization: normalization,
  BatchNormalization: perChannelNorm, InstanceNormalization: perChannelNorm,
  Flatten: flatten, Squeeze: squeeze, Unsqueeze: unsqueeze, Transpose: transpose,
  Conv: conv, ConvTranspose: convTranspose, MatMul: matmul, Gemm: gemm,
};

/** Follow the channels through one node whose inputs carry some; returns why not when it cannot. */
export function followNode(ctx: FollowContext): string | undefined {
  const { node } = ctx.ref;
  if (node.domain !== '' && node.domain !== 'ai.onnx') return `channels reach ${label(ctx)} of domain ${node.domain}`;
  const op = node.opType;
  if (!ELEMENTWISE.has(op) && ctx.inputs.some((v) => v?.kind === 'reduced')) return `a statistic of the channels reaches ${label(ctx)}`;
  const rule = ELEMENTWISE.has(op) ? elementwise : POOLS.has(op) ? pool : REDUCE.has(op) ? reduce : RULES[op];
  if (!rule) return `channels reach ${label(ctx)}, which it cannot follow`;
  const failure = rule(ctx);
  const first = ctx.inputs.find((v) => v !== undefined);
  if (!failure && first && !['Conv', 'ConvTranspose', 'MatMul', 'Gemm'].includes(op)) ctx.spaces.get(first.space).followed.add(op);
  return failure;
}
