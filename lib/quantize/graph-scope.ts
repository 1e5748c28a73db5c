// Where values come from, across If/Loop bodies: constant weights may be main-graph initializers,
// body initializers, or Constant nodes (paddle2onnx keeps every weight in one). The passes read
// weights through this and put new tensors next to the graph that uses them.
import type { GraphProto, NodeProto, TensorProto } from '../onnx/gen/onnx_pb';
import type { DTypeName, TensorData } from '../onnx/dtype';
import type { Model } from '../onnx/model';
import { allGraphs, type GraphRef } from '../onnx/proto-walk';
import { makeTensor, tensorDims } from '../onnx/tensor';
import { dtypeInfo } from '../onnx/dtype';
import { sortNodes } from '../onnx/topo';
import { getAttribute } from '../onnx/attributes';

export interface ConstantRef {
  name: string;
  tensor: TensorProto;
  /** The graph whose scope defines the value. */
  graph: GraphProto;
  /** The Constant node that makes it, when it is not an initializer. */
  node?: NodeProto;
}

export class GraphScope {
  private readonly refs = new Map<GraphProto, GraphRef>();
  private readonly names = new Set<string>();
  private readonly replaced = new Set<string>();

  constructor(private readonly model: Model) {
    for (const ref of allGraphs(model.graph)) {
      this.refs.set(ref.graph, ref);
      const g = ref.graph;
      if (g.name) this.names.add(g.name);
      for (const v of [...g.input, ...g.output, ...g.valueInfo]) this.names.add(v.name);
      for (const t of g.initializer) this.names.add(t.name);
      for (const n of g.node) {
        if (n.name) this.names.add(n.name);
        for (const v of [...n.input, ...n.output]) if (v) this.names.add(v);
      }
    }
  }

  graphRef(graph: GraphProto): GraphRef {
    const ref = this.refs.get(graph);
    if (!ref) throw new Error('graph is not part of this model');
    return ref;
  }

  /** A name no value, node or graph of the model uses yet (reserved on return). */
  fresh(prefix: string): string {
    let name = prefix;
    for (let i = 1; this.names.has(name); i++) name = `${prefix}_${i}`;
    this.names.add(name);
    return name;
  }

  /**
   * The constant tensor `name` refers to when read by a node of `graph`: the innermost scope that
   * defines the name decides. Graph inputs (and initializers that double as inputs, which callers
   * may override) are not constant.
   */
  findConstant(name: string, graph: GraphProto): ConstantRef | undefined {
    const ref = this.graphRef(graph);
    const chain = [graph, ...[...ref.parents].reverse()];
    for (const g of chain) {
      if (g.input.some((v) => v.name === name)) return undefined;
      const init = g.initializer.find((t) => t.name === name);
      if (init) return { name, tensor: init, graph: g };
      const producer = g.node.find((n) => n.output.includes(name));
      if (producer) {
        if (producer.opType !== 'Constant' || (producer.domain !== '' && producer.domain !== 'ai.onnx')) return undefined;
        const value = getAttribute(producer, 'value');
        if (!value || typeof value !== 'object' || Array.isArray(value) || !('dataType' in value)) return undefined;
        return { name, tensor: value as TensorProto, graph: g, node: producer };
      }
    }
    return undefined;
  }

  /** A float32 constant's values and dims, or undefined when it is not a float32 constant. */
  floatConstant(name: string, graph: GraphProto): { values: Float32Array; dims: number[]; ref: ConstantRef } | undefined {
    const ref = this.findConstant(name, graph);
    if (!ref || dtypeInfo(ref.tensor.dataType).name !== 'float32') return undefined;
    return { values: this.model.tensorValues(ref.tensor) as Float32Array, dims: tensorDims(ref.tensor), ref };
  }

  /** Any constant's values (for shape tensors, axes, ...). */
  constantValues(name: string, graph: GraphProto): { values: TensorData; dims: number[] } | undefined {
    const ref = this.findConstant(name, graph);
    return ref ? { values: this.model.tensorValues(ref.tensor), dims: tensorDims(ref.tensor) } : undefined;
  }

  /** Adds an initializer under a fresh name derived from `prefix` to `graph`; returns its name. */
  addInitializer(graph: GraphProto, prefix: string, data: TensorData, dims: readonly number[], dtype?: DTypeName): string {
    const name = this.fresh(prefix);
    graph.initializer.push(makeTensor(name, data, dims, dtype));
    return name;
  }

  /** Marks a constant as replaced; it is dropped by `finish` once nothing reads it. */
  markReplaced(ref: ConstantRef): void {
    this.replaced.add(ref.name);
  }

  /**
   * Ends a batch of edits: drops replaced constants nothing reads any more, puts every graph's
   * nodes back in dependency order and refreshes the model's lookups.
   */
  finish(): void {
    const read = new Set<string>();
    for (const { graph } of allGraphs(this.model.graph)) {
      for (const n of graph.node) for (const v of n.input) read.add(v);
      for (const o of graph.output) read.add(o.name);
    }
    for (const { graph } of allGraphs(this.model.graph)) {
      graph.initializer = graph.initializer.filter((t) => !(this.replaced.has(t.name) && !read.has(t.name) && !graph.input.some((v) => v.name === t.name)));
      graph.node = graph.node.filter((n) => !(n.opType === 'Constant' && n.output.length === 1 && this.replaced.has(n.output[0]) && !read.has(n.output[0])));
    }
    for (const { graph } of allGraphs(this.model.graph)) {
      const { order, cycle } = sortNodes(graph);
      if (!cycle) graph.node = order.map((i) => graph.node[i]);
    }
    this.replaced.clear();
    this.model.invalidate();
  }
}
