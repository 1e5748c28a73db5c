// Where SmoothQuant can move an activation's outliers into the weights: an activation X that only
// linear layers with constant weights read (MatMul, Gemm: their weight rows take s), made by an op whose
// constants can take 1/s per channel, so the float model computes the same thing: LayerNormalization
// (scale, bias), a Mul/Add by per-channel constants (a decomposed LayerNorm, RMSNorm), or a linear
// layer (weight columns, bias). For conv nets the same holds along axis 1 between a Conv and the convs
// (plain or depthwise) reading its output directly: zero padding stays zero when x is divided by s.
import type { GraphProto, NodeProto } from '../../onnx/gen/onnx_pb';
import { getAttribute } from '../../onnx/attributes';
import type { Model, NodeRef } from '../../onnx/model';
import type { GraphScope } from '../graph-scope';
import { labelOf } from '../selection';

/**
 * A constant input of a node scaled per channel j: a vector, the rows (axis 0, any rank) or columns of a
 * 2-D matrix, or axis 1 of a conv weight (its input channels).
 */
export interface ChannelEdit {
  node: NodeProto;
  input: number;
  along: 'vector' | 'rows' | 'columns' | 'inputChannels';
}

/** Which channel element `i` of a constant of `dims` belongs to, for an edit along `along`. */
export function channelOf(along: ChannelEdit['along'], dims: readonly number[], length: number, i: number): number {
  if (along === 'rows') return Math.floor(i / (length / dims[0]));
  if (along === 'inputChannels') return Math.floor(i / (length / dims[0] / dims[1])) % dims[1];
  return i % dims[dims.length - 1];
}

export interface SmoothPlace {
  /** The activation smoothed: divided by s. */
  activation: string;
  /** Its channels (the readers' K, or a conv's input channels). */
  channels: number;
  /** The axis of X that holds the channels: the last for linear layers, 1 for convs. */
  axis: 'last' | 1;
  /** The node that makes it, whose constants take 1/s. */
  absorber: NodeProto;
  divide: ChannelEdit[];
  /** The linear layers that read it, whose weight rows take s. */
  consumers: NodeProto[];
  multiply: ChannelEdit[];
}

export interface NotSmoothed {
  activation: string;
  reason: string;
}

const isDefault = (node: NodeProto) => node.domain === '' || node.domain === 'ai.onnx';

/** A float constant holding one value per channel (shape [K], [1, K], ...). */
function channelVector(scope: GraphScope, graph: GraphProto, name: string | undefined, k: number): boolean {
  if (!name) return false;
  const c = scope.floatConstant(name, graph);
  return c !== undefined && c.values.length === k && c.dims.length >= 1 && c.dims[c.dims.length - 1] === k;
}

/** A conv reading `x` as its input: its weight's input channels (or a depthwise conv's rows) take s; or why not. */
function convConsumerEdit(scope: GraphScope, graph: GraphProto, node: NodeProto, x: string): { edit: ChannelEdit; k: number } | string {
  if (node.input[0] !== x) return `"${labelOf(node)}" reads it as its weight`;
  const w = scope.floatConstant(node.input[1], graph);
  if (!w || w.dims.length < 3) return `"${labelOf(node)}" has no constant float weight`;
  const group = (getAttribute(node, 'group') as number | undefined) ?? 1;
  if (group === 1) return { edit: { node, input: 1, along: 'inputChannels' }, k: w.dims[1] };
  // Depthwise with one filter per channel: input channel j is output channel j.
  if (w.dims[1] === 1 && w.dims[0] === group) return { edit: { node, input: 1, along: 'rows' }, k: group };
  return `"${labelOf(node)}" is a grouped conv`;
}

/** The weight of a linear layer reading `x` as its input A, as an edit of its K rows; or why not. */
function consumerEdit(scope: GraphScope, graph: GraphProto, node: NodeProto, x: string): { edit: ChannelEdit; k: number } | string {
  if (isDefault(node) && node.opType === 'Conv') return convConsumerEdit(scope, graph, node, x);
  if (!isDefault(node) || (node.opType !== 'MatMul' && node.opType !== 'Gemm')) return `read by ${node.opType} "${labelOf(node)}", not only by linear layers`;
  if (node.input[0] !== x || node.input[1] === x) return `"${labelOf(node)}" reads it as its weight`;
  const w = scope.floatConstant(node.input[1], graph);
  if (!w || w.dims.length !== 2) return `"${labelOf(node)}" has no constant 2-D float weight`;
  if (node.opType === 'Gemm') {
    if ((getAttribute(node, 'transA') ?? 0) !== 0) return `"${labelOf(node)}" is a Gemm with transA`;
    const transB = (getAttribute(node, 'transB') ?? 0) !== 0;
    return { edit: { node, input: 1, along: transB ? 'columns' : 'rows' }, k: transB ? w.dims[1] : w.dims[0] };
  }
  return { edit: { node, input: 1, along: 'rows' }, k: w.dims[0] };
}

/** The only node reading `name` (and no graph output), or undefined. */
function soleReader(model: Model, name: string): NodeProto | undefined {
  const readers = model.consumers(name);
  if (readers.length !== 1 || model.graph.output.some((o) => o.name === name)) return undefined;
  return readers[0].node;
}

/** Edits that divide the output channels of a linear layer `node` (weight columns, bias) by s; undefined when it cannot. */
function linearOutputEdits(scope: GraphScope, graph: GraphProto, node: NodeProto, k: number): ChannelEdit[] | undefined {
  if (!isDefault(node)) return undefined;
  const w = scope.floatConstant(node.input[1], graph);
  if (!w || w.dims.length !== 2) return undefined;
  if (node.opType === 'MatMul') return w.dims[1] === k ? [{ node, input: 1, along: 'columns' }] : undefined;
  if (node.opType !== 'Gemm' || (getAttribute(node, 'transA') ?? 0) !== 0) return undefined;
  const transB = (getAttribute(node, 'transB') ?? 0) !== 0;
  if ((transB ? w.dims[0] : w.dims[1]) !== k) return undefined;
  const edits: ChannelEdit[] = [{ node, input: 1, along: transB ? 'rows' : 'columns' }];
  if (node.input[2]) {
    if (!channelVector(scope, graph, node.input[2], k)) return undefined;
    edits.push({ node, input: 2, along: 'vector' });
  }
  return edits;
}

/** The other input of a two-input node, and whether `name` is a per-channel constant there. */
function constantOperand(scope: GraphScope, graph: GraphProto, node: NodeProto, k: number): { constant: number; other: number } | undefined {
  if (node.input.length !== 2) return undefined;
  for (const [constant, other] of [[1, 0], [0, 1]]) {
    if (channelVector(scope, graph, node.input[constant], k) && !scope.findConstant(node.input[other], graph)) return { constant, other };
  }
  return undefined;
}

/** How the producer of X (with K channels) takes 1/s, or why it cannot. */
function absorberEdits(model: Model, scope: GraphScope, graph: GraphProto, producer: NodeProto, k: number, axis: 'last' | 1): ChannelEdit[] | string {
  const op = producer.opType;
  const cannot = `made by ${op} "${labelOf(producer)}", which has no per-channel constants to take 1/s`;
  if (!isDefault(producer)) return cannot;
  if (axis === 1) {
    // Conv readers: only a Conv before them (its output channels: weight rows and bias) takes 1/s.
    const w = op === 'Conv' ? scope.floatConstant(producer.input[1], graph) : undefined;
    if (!w || w.dims[0] !== k) return cannot;
    if (producer.input[2] && !channelVector(scope, graph, producer.input[2], k)) return `Conv "${labelOf(producer)}" has no constant bias`;
    return [{ node: producer, input: 1, along: 'rows' }, ...(producer.input[2] ? [{ node: producer, input: 2, along: 'vector' as const }] : [])];
  }
  if (op === 'LayerNormalization') {
    if ((getAttribute(producer, 'axis') ?? -1) !== -1) return `made by LayerNormalization "${labelOf(producer)}" over more than the last axis`;
    if (!channelVector(scope, graph, producer.input[1], k)) return `LayerNormalization "${labelOf(producer)}" has no constant per-channel scale`;
    if (producer.input[2] && !channelVector(scope, graph, producer.input[2], k)) return `LayerNormalization "${labelOf(producer)}" has no constant per-channel bias`;
    return [{ node: producer, input: 1, along: 'vector' }, ...(producer.input[2] ? [{ node: producer, input: 2, along: 'vector' as const }] : [])];
  }
  if (op === 'MatMul' || op === 'Gemm') return linearOutputEdits(scope, graph, producer, k) ?? cannot;
  if (op !== 'Mul' && op !== 'Add') return cannot;
  const operands = constantOperand(scope, graph, producer, k);
  if (!operands) return cannot;
  const own: ChannelEdit = { node: producer, input: operands.constant, along: 'vector' };
  if (op === 'Mul') return [own];
  // x + b: x must itself be scaled per channel by the node before, which only this Add reads.
  const before = model.producer(producer.input[operands.other]);
  if (!before || before.graph !== graph || soleReader(model, producer.input[operands.other]) !== producer) return cannot;
  const b = before.node;
  if (b.opType === 'Mul' && isDefault(b)) {
    const inner = constantOperand(scope, graph, b, k);
    return inner ? [own, { node: b, input: inner.constant, along: 'vector' }] : cannot;
  }
  const linear = b.opType === 'MatMul' || b.opType === 'Gemm' ? linearOutputEdits(scope, graph, b, k) : undefined;
  return linear ? [own, ...linear] : cannot;
}

/**
 * The places in the main graph where the inputs of the linear `candidates` can be smoothed, and for
 * the others, why not. Layers that read the same activation (q, k, v) share one place.
 */
export function smoothPlaces(model: Model, scope: GraphScope, candidates: readonly NodeRef[]): { places: SmoothPlace[]; notSmoothed: NotSmoothed[] } {
  const places: SmoothPlace[] = [];
  const notSmoothed: NotSmoothed[] = [];
  const seen = new Set<string>();
  for (const ref of candidates) {
    const x = ref.node.input[0];
    if (!['MatMul', 'Gemm', 'Conv'].includes(ref.node.opType) || seen.has(x)) continue;
    seen.add(x);
    const place = placeOf(model, scope, ref, x);
    if (typeof place === 'string') notSmoothed.push({ activation: x, reason: place });
    else places.push(place);
  }
  return { places, notSmoothed };
}

function placeOf(model: Model, scope: GraphScope, ref: NodeRef, x: string): SmoothPlace | string {
  if (ref.graphPath !== 'main') return 'inside an If/Loop body (only the main graph is smoothed)';
  const graph = ref.graph;
  if (model.graph.output.some((o) => o.name === x)) return 'it is a model output';
  const readers = model.consumers(x);
  const multiply: ChannelEdit[] = [];
  let k: number | undefined;
  const axis = ref.node.opType === 'Conv' ? 1 : 'last';
  for (const reader of readers) {
    if (reader.graph !== graph) return 'read inside an If/Loop body';
    if ((reader.node.opType === 'Conv') !== (axis === 1)) return 'read by both convs and linear layers';
    const edit = consumerEdit(scope, graph, reader.node, x);
    if (typeof edit === 'string') return edit;
    if (k !== undefined && edit.k !== k) return 'its readers disagree on its channel count';
    k = edit.k;
    multiply.push(edit.edit);
  }
  const producer = model.producer(x);
  if (!producer || producer.graph !== graph) return 'a model input: nothing before it can take 1/s';
  const divide = absorberEdits(model, scope, graph, producer.node, k as number, axis);
  if (typeof divide === 'string') return divide;
  return { activation: x, channels: k as number, axis, absorber: producer.node, divide, consumers: readers.map((r) => r.node), multiply };
}
