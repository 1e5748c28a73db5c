// Students with fewer layers, DistilBERT-style: blocks of a repeated stack are removed and the kept ones
// keep the teacher's weights. A node belongs to block i when its name, an output's name or a weight's
// name numbers it ("/layers.3/q/MatMul", "/layers.3/..._output_0", "layer3.attn.q.weight",
// "encoder.layer.3..."). The stream between blocks is then found from the graph: X(i), the value block
// i reads that only blocks before it made. Removing block i makes X(i+1)'s readers read X(i); nodes
// nothing reads any more go.
import type { NodeProto } from '../onnx/gen/onnx_pb';
import { makeNode } from '../onnx/attributes';
import { DataType } from '../onnx/dtype';
import type { Model } from '../onnx/model';
import { sortNodes } from '../onnx/topo';

const LAYER_INDEX = /(?:^|[/._])(?:layers?|blocks?|h)[._]?(\d+)(?=$|[/._])/i;

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

interface Stack {
  nodes: NodeProto[];
  /** Block number of numbered nodes. */
  block: Map<NodeProto, number>;
  /** Per value: the blocks whose numbered nodes it depends on. */
  after: Map<string, Set<number>>;
  producer: Map<string, NodeProto>;
  layers: number;
}

function analyzeStack(model: Model): Stack {
  const graph = model.graph;
  const nodes = sortNodes(graph).order.map((i) => graph.node[i]);
  // Float tensors of more than one element: weights, not shapes or scalar constants.
  const weights = new Set(graph.initializer
    .filter((t) => (t.dataType === DataType.FLOAT || t.dataType === DataType.DOUBLE) && t.dims.reduce((a, b) => a * Number(b), 1) > 1)
    .map((t) => t.name));
  const block = new Map<NodeProto, number>();
  const after = new Map<string, Set<number>>();
  const producer = new Map<string, NodeProto>();
  for (const node of nodes) {
    const own = [node.name, ...node.output, ...node.input.filter((v) => weights.has(v))].map(indexIn).find((i) => i !== undefined);
    const deps = new Set<number>(node.input.flatMap((v) => [...(after.get(v) ?? [])]));
    if (own !== undefined) {
      block.set(node, own);
      deps.add(own);
    }
    for (const out of node.output) {
      after.set(out, deps);
      producer.set(out, node);
    }
  }
  const numbers = [...new Set(block.values())].sort((a, b) => a - b);
  if (numbers.length < 2 || numbers.some((b, i) => b !== i)) throw new LayerDropError(`no repeated stack of numbered blocks found (block numbers seen: ${numbers.join(', ') || 'none'})`);
  return { nodes, block, after, producer, layers: numbers.length };
}

/** X(0) .. X(layers): what each block reads from before it, and what the last block hands on. */
function streamValues(model: Model, s: Stack): string[] {
  const readBy = (b: number): string[] => [...new Set(s.nodes.filter((n) => s.block.get(n) === b).flatMap((n) => n.input))].filter((v) => v !== '');
  const dependsOn = (v: string, b: number): boolean => s.after.get(v)?.has(b) ?? false;
  const unique = (candidates: string[], what: string): string => {
    if (candidates.length !== 1) throw new LayerDropError(`cannot tell ${what} (${candidates.length ? candidates.join(', ') : 'no value'} qualifies)`);
    return candidates[0];
  };
  const stream: string[] = [];
  for (let b = 1; b < s.layers; b++) {
    stream[b] = unique(readBy(b).filter((v) => dependsOn(v, b - 1) && !dependsOn(v, b)), `which value block ${b} reads from block ${b - 1}`);
  }
  // Block 0 reads its input the way block 1 reads block 0's output: by the same kinds of nodes.
  const readers = (v: string, b: number): string => s.nodes.filter((n) => s.block.get(n) === b && n.input.includes(v)).map((n) => n.opType).sort().join();
  const firstReaders = readers(stream[1], 1);
  stream[0] = unique(readBy(0).filter((v) => !model.initializerProto(v) && (s.after.get(v)?.size ?? 0) === 0 && readers(v, 0) === firstReaders), 'which value block 0 reads as its input');
  // The last block hands on the value made at the place in it where the block before made X(last):
  // blocks are copies of each other, written node for node in the same order.
  const last = s.layers - 1;
  const region = (b: number): NodeProto[] => s.nodes.filter((n) => dependsOn(n.output[0], b) && !dependsOn(n.output[0], b + 1));
  const maker = s.producer.get(stream[last]) as NodeProto;
  const at = region(last - 1).indexOf(maker);
  const twin = region(last)[at];
  if (at < 0 || twin?.opType !== maker.opType) throw new LayerDropError(`cannot tell which value the last block hands on: blocks ${last - 1} and ${last} differ`);
  stream[s.layers] = twin.output[maker.output.indexOf(stream[last])];
  return stream;
}

/** A copy of `source` keeping only blocks `keep` (indices into its repeated stack). */
export function dropLayers(source: Model, keep: readonly number[]): LayerDropResult {
  const model = source.clone();
  const stack = analyzeStack(model);
  const { layers } = stack;
  for (const k of keep) if (!Number.isInteger(k) || k < 0 || k >= layers) throw new LayerDropError(`block ${k} does not exist: the model has blocks 0..${layers - 1}`);
  const kept = [...new Set(keep)].sort((a, b) => a - b);
  if (kept.length === 0) throw new LayerDropError('keep at least one block');
  const dropped = Array.from({ length: layers }, (_, i) => i).filter((b) => !kept.includes(b));
  const stream = streamValues(model, stack);
  const graph = model.graph;
  const outputs = new Set(graph.output.map((o) => o.name));
  for (const b of [...dropped].reverse()) {
    const [from, to] = [stream[b], stream[b + 1]];
    for (const n of graph.node) n.input.forEach((v, i) => v === to && (n.input[i] = from));
    if (outputs.has(to)) {
      // The graph output keeps its name, now made from the kept stream; its old maker is left unread.
      const maker = graph.node.find((n) => n.output.includes(to)) as NodeProto;
      maker.output[maker.output.indexOf(to)] = model.uniqueName(`${to}_dropped`);
      graph.node.push(makeNode('Identity', [from], [to], {}, { name: model.uniqueName(`${to}_kept`) }));
    }
  }
  removeUnread(model);
  return { model, layers, kept, dropped };
}

/** Nodes nothing reads, initializers nothing reads, and value infos of values no longer made. */
function removeUnread(model: Model): void {
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
