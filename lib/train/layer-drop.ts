// Students with fewer layers, DistilBERT-style: blocks of a repeated stack are removed and the kept ones
// keep the teacher's weights. Each node belongs to the block its name or its weights' names number
// ("layers.3/...", "layer3.attn.q.weight", "encoder.layer.3..."), or else to the latest block it reads
// from; removing a block wires the block after it to the block before it.
import type { NodeProto } from '../onnx/gen/onnx_pb';
import { makeNode } from '../onnx/attributes';
import { DataType } from '../onnx/dtype';
import type { Model } from '../onnx/model';
import { sortNodes } from '../onnx/topo';

const LAYER_INDEX = /(?:^|[/._])(?:layers?|blocks?|h)[._]?(\d+)(?=$|[/._])/i;
/** Before the stack (embeddings, mask arithmetic). */
const BEFORE = -1;
/** After the stack (pooler, classifier head). */
const AFTER = Number.MAX_SAFE_INTEGER;

export class LayerDropError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LayerDropError';
  }
}

export interface LayerDropResult {
  model: Model;
  /** Blocks the model had. */
  layers: number;
  kept: number[];
  dropped: number[];
}

const indexIn = (name: string): number | undefined => {
  const m = LAYER_INDEX.exec(name);
  return m ? Number(m[1]) : undefined;
};

/** Block of each node: BEFORE, a block index, or AFTER. */
function blockOf(model: Model, nodes: NodeProto[]): Map<NodeProto, number> {
  // Float tensors of more than one element: weights, not shapes or scalar constants.
  const weights = new Set(model.graph.initializer
    .filter((t) => (t.dataType === DataType.FLOAT || t.dataType === DataType.DOUBLE) && t.dims.reduce((a, b) => a * Number(b), 1) > 1)
    .map((t) => t.name));
  const valueBlock = new Map<string, number>();
  const blocks = new Map<NodeProto, number>();
  for (const node of nodes) {
    const inherited = Math.max(BEFORE, ...node.input.map((v) => valueBlock.get(v) ?? BEFORE));
    const named = indexIn(node.name);
    const ownWeights = node.input.filter((v) => weights.has(v));
    const weightIndices = ownWeights.map(indexIn).filter((i): i is number => i !== undefined);
    let block: number;
    if (named !== undefined) block = Math.max(named, inherited);
    else if (weightIndices.length) block = Math.max(...weightIndices, inherited);
    // Weights without a block number after the stack: the head.
    else if (ownWeights.length && inherited > BEFORE) block = AFTER;
    else block = inherited;
    blocks.set(node, block);
    for (const out of node.output) valueBlock.set(out, block);
  }
  return blocks;
}

/** A copy of `source` keeping only blocks `keep` (indices into its repeated stack). */
export function dropLayers(source: Model, keep: readonly number[]): LayerDropResult {
  const model = source.clone();
  const graph = model.graph;
  const { order } = sortNodes(graph);
  const nodes = order.map((i) => graph.node[i]);
  const blocks = blockOf(model, nodes);
  const indices = [...new Set(blocks.values())].filter((b) => b !== BEFORE && b !== AFTER).sort((a, b) => a - b);
  const layers = indices.length;
  if (layers < 2 || indices.some((b, i) => b !== i)) throw new LayerDropError(`no repeated stack of numbered blocks found (block numbers seen: ${indices.join(', ') || 'none'})`);
  for (const k of keep) if (!Number.isInteger(k) || k < 0 || k >= layers) throw new LayerDropError(`block ${k} does not exist: the model has blocks 0..${layers - 1}`);
  const kept = [...new Set(keep)].sort((a, b) => a - b);
  if (kept.length === 0) throw new LayerDropError('keep at least one block');
  const dropped = indices.filter((b) => !kept.includes(b));
  const graphOutputs = new Set(graph.output.map((o) => o.name));
  const producedIn = (b: number): Set<string> => new Set(nodes.filter((n) => blocks.get(n) === b).flatMap((n) => n.output));
  const readersOf = (value: string): NodeProto[] => nodes.filter((n) => n.input.includes(value));

  /** The one value block `b` hands to what comes after it. */
  const streamOut = (b: number): string => {
    const leaving = [...producedIn(b)].filter((v) => graphOutputs.has(v) || readersOf(v).some((n) => (blocks.get(n) as number) > b));
    if (leaving.length !== 1) throw new LayerDropError(`block ${b} hands ${leaving.length} values to later nodes (${leaving.join(', ')}); only a single stream can be rewired`);
    return leaving[0];
  };
  /** The value block `b` reads from before it: the previous block's stream, or for block 0 the value read like block 1 reads block 0's. */
  const streamIn = (b: number): string => {
    if (b > 0) return streamOut(b - 1);
    const inBlock = (n: NodeProto, block: number) => blocks.get(n) === block;
    const readers = (v: string, block: number) => readersOf(v).filter((n) => inBlock(n, block)).length;
    const want = readers(streamOut(0), 1);
    const inside = producedIn(0);
    const candidates = [...new Set(nodes.filter((n) => inBlock(n, 0)).flatMap((n) => n.input))]
      .filter((v) => v !== '' && !inside.has(v) && !model.initializerProto(v) && readers(v, 0) === want);
    if (candidates.length !== 1) throw new LayerDropError(`cannot tell which value block 0 reads as its input (${candidates.join(', ') || 'none'} match)`);
    return candidates[0];
  };

  const removed = new Set<NodeProto>();
  for (const b of [...dropped].reverse()) {
    const from = streamIn(b);
    const to = streamOut(b);
    for (const n of nodes) if (!removed.has(n) && blocks.get(n) !== b) n.input.forEach((v, i) => v === to && (n.input[i] = from));
    for (const n of nodes) if (blocks.get(n) === b) removed.add(n);
    if (graphOutputs.has(to)) graph.node.push(makeNode('Identity', [from], [to], {}, { name: model.uniqueName(`${to}_kept`) }));
  }
  graph.node = graph.node.filter((n) => !removed.has(n));
  removeDeadNodes(model);
  return { model, layers, kept, dropped };
}

/** Nodes nothing reads, initializers nothing reads, and value infos of values no longer made. */
function removeDeadNodes(model: Model): void {
  const graph = model.graph;
  const outputs = new Set(graph.output.map((o) => o.name));
  for (let changed = true; changed;) {
    const read = new Set(graph.node.flatMap((n) => n.input));
    const before = graph.node.length;
    graph.node = graph.node.filter((n) => n.output.some((o) => o !== '' && (read.has(o) || outputs.has(o))));
    changed = graph.node.length !== before;
  }
  const read = new Set(graph.node.flatMap((n) => n.input));
  const unused = new Set(graph.initializer.filter((t) => !read.has(t.name)).map((t) => t.name));
  graph.initializer = graph.initializer.filter((t) => !unused.has(t.name));
  graph.input = graph.input.filter((v) => !unused.has(v.name));
  const made = new Set(graph.node.flatMap((n) => n.output));
  graph.valueInfo = graph.valueInfo.filter((v) => made.has(v.name));
  model.invalidate();
}
