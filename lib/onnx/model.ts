// Model: the object passes work on. It wraps a ModelProto (always reachable as `proto`) and adds graph
// queries (topological order through subgraphs, producers, consumers), typed initializer access and edits.
import { clone as cloneMessage, create, isFieldSet } from '@bufbuild/protobuf';
import {
  ModelProtoSchema, OperatorSetIdProtoSchema, TensorProtoSchema,
  type GraphProto, type ModelProto, type NodeProto, type TensorProto,
} from './gen/onnx_pb';
import type { DTypeName, TensorData } from './dtype';
import { ModelValidationError, OnnxError } from './errors';
import type { ExternalDataSource } from './external-data';
import { allGraphs, allTensors, nodeLabel, subgraphsOf, type GraphRef } from './proto-walk';
import { decodeTensor, makeTensor, tensorBytes, tensorValues, type Tensor } from './tensor';
import { sortNodes } from './topo';
import { describeValueInfo, makeTensorType, makeValueInfo, type Dim, type ValueInfo } from './value-info';
import { normalizeDomain } from './validate';

/** A node together with the graph that holds it. */
export interface NodeRef {
  node: NodeProto;
  graph: GraphProto;
  /** "main" for the main graph, "main/If_0.then_branch" for an If body, and so on. */
  graphPath: string;
}

export interface ModelOptions {
  /** Where tensors marked EXTERNAL get their bytes (set by loadModel). */
  externalData?: ExternalDataSource;
  /** File the model was loaded from. */
  sourcePath?: string;
}

interface GraphIndex {
  producers: Map<string, NodeRef>;
  consumers: Map<string, NodeRef[]>;
  names: Set<string>;
}

export class Model {
  readonly proto: ModelProto;
  readonly externalData: ExternalDataSource | undefined;
  readonly sourcePath: string | undefined;
  private index: GraphIndex | undefined;

  constructor(proto: ModelProto, options: ModelOptions = {}) {
    this.proto = proto;
    this.externalData = options.externalData;
    this.sourcePath = options.sourcePath;
  }

  get graph(): GraphProto {
    if (!this.proto.graph) throw new OnnxError('model has no graph');
    return this.proto.graph;
  }

  get irVersion(): number {
    return Number(this.proto.irVersion);
  }

  /** Operator set version imported for a domain ('' and 'ai.onnx' are the default set). */
  opsetVersion(domain = ''): number | undefined {
    const wanted = normalizeDomain(domain);
    const entry = this.proto.opsetImport.find((o) => normalizeDomain(o.domain) === wanted);
    return entry ? Number(entry.version) : undefined;
  }

  setOpset(domain: string, version: number): void {
    const wanted = normalizeDomain(domain);
    const entry = this.proto.opsetImport.find((o) => normalizeDomain(o.domain) === wanted);
    if (entry) entry.version = BigInt(version);
    else this.proto.opsetImport.push(create(OperatorSetIdProtoSchema, { domain, version: BigInt(version) }));
  }

  /** Graph inputs that are real inputs (not initializers listed as inputs, as IR < 4 models do). */
  get inputs(): ValueInfo[] {
    const inits = new Set(this.graph.initializer.map((t) => t.name));
    return this.graph.input.filter((vi) => !inits.has(vi.name)).map(describeValueInfo);
  }

  get outputs(): ValueInfo[] {
    return this.graph.output.map(describeValueInfo);
  }

  /** Type and shape of a main-graph value, from inputs, outputs, or value_info. */
  valueInfo(name: string): ValueInfo | undefined {
    const g = this.graph;
    const found = g.input.find((v) => v.name === name) ?? g.output.find((v) => v.name === name) ?? g.valueInfo.find((v) => v.name === name);
    return found ? describeValueInfo(found) : undefined;
  }

  /** Record a value's type and shape: updates an input/output entry, else value_info. */
  setValueInfo(name: string, dtype: DTypeName, dims?: readonly Dim[]): void {
    const g = this.graph;
    const existing = g.input.find((v) => v.name === name) ?? g.output.find((v) => v.name === name) ?? g.valueInfo.find((v) => v.name === name);
    if (existing) existing.type = makeTensorType(dtype, dims);
    else g.valueInfo.push(makeValueInfo(name, dtype, dims));
  }

  /** The main graph and every If/Loop/Scan body, parents first. */
  graphs(): GraphRef[] {
    return allGraphs(this.graph);
  }

  /**
   * Every node in dependency order; a node with bodies is followed by the nodes of its bodies
   * (each body in its own dependency order). Throws ModelValidationError on a cycle.
   */
  nodes(): NodeRef[] {
    const out: NodeRef[] = [];
    const visit = (graph: GraphProto, path: string): void => {
      const { order, cycle } = sortNodes(graph);
      if (cycle) throw new ModelValidationError([`${path}: nodes form a cycle: ${cycle.map((c) => `"${c}"`).join(' -> ')}`]);
      for (const i of order) {
        const node = graph.node[i];
        out.push({ node, graph, graphPath: path });
        for (const sub of subgraphsOf(node)) visit(sub.graph, `${path}/${nodeLabel(node, i)}.${sub.name}`);
      }
    };
    visit(this.graph, 'main');
    return out;
  }

  private getIndex(): GraphIndex {
    if (this.index) return this.index;
    const producers = new Map<string, NodeRef>();
    const consumers = new Map<string, NodeRef[]>();
    const names = new Set<string>();
    for (const { graph, path } of this.graphs()) {
      if (graph.name) names.add(graph.name);
      for (const v of [...graph.input, ...graph.output, ...graph.valueInfo]) names.add(v.name);
      for (const t of graph.initializer) names.add(t.name);
      for (const node of graph.node) {
        const ref = { node, graph, graphPath: path };
        if (node.name) names.add(node.name);
        for (const out of node.output) {
          names.add(out);
          if (out !== '' && !producers.has(out)) producers.set(out, ref);
        }
        for (const input of node.input) {
          if (input === '') continue;
          names.add(input);
          const list = consumers.get(input);
          if (list) list.push(ref);
          else consumers.set(input, [ref]);
        }
      }
    }
    this.index = { producers, consumers, names };
    return this.index;
  }

  /** Forget cached lookups; call after editing `proto` directly (the Model's own edit methods do it). */
  invalidate(): void {
    this.index = undefined;
  }

  /** The node that outputs `valueName` (in any graph), if any. */
  producer(valueName: string): NodeRef | undefined {
    return this.getIndex().producers.get(valueName);
  }

  /** Nodes that read `valueName`, including nodes inside bodies that read it from the outer scope. */
  consumers(valueName: string): NodeRef[] {
    return [...(this.getIndex().consumers.get(valueName) ?? [])];
  }

  /** A name unused by any value, node or graph in the model: `prefix`, else `prefix_1`, `prefix_2`, ... */
  uniqueName(prefix: string): string {
    const names = this.getIndex().names;
    let name = prefix;
    for (let i = 1; names.has(name); i++) name = `${prefix}_${i}`;
    names.add(name);
    return name;
  }

  initializerProto(name: string): TensorProto | undefined {
    return this.graph.initializer.find((t) => t.name === name);
  }

  initializerNames(): string[] {
    return this.graph.initializer.map((t) => t.name);
  }

  /** A main-graph initializer decoded into its typed array (a view of the model's bytes when aligned). */
  initializer(name: string): Tensor | undefined {
    const t = this.initializerProto(name);
    return t ? decodeTensor(t, this.externalData) : undefined;
  }

  /** All main-graph initializers, decoded. External data is read on first access. */
  initializers(): Tensor[] {
    return this.graph.initializer.map((t) => decodeTensor(t, this.externalData));
  }

  /** Raw little-endian bytes of any tensor of this model (inline or external). */
  tensorBytes(tensor: TensorProto): Uint8Array {
    return tensorBytes(tensor, this.externalData);
  }

  /** Elements of any tensor of this model (e.g. a Constant's value attribute). */
  tensorValues(tensor: TensorProto): TensorData {
    return tensorValues(tensor, this.externalData);
  }

  /**
   * Add or replace a main-graph initializer. Its raw_data views `data` (no copy). A graph input of the
   * same name (IR < 4 style) gets the new type and shape.
   */
  setInitializer(name: string, data: TensorData, dims: readonly number[], dtype?: DTypeName): TensorProto {
    const tensor = makeTensor(name, data, dims, dtype);
    const list = this.graph.initializer;
    const at = list.findIndex((t) => t.name === name);
    if (at >= 0) list[at] = tensor;
    else list.push(tensor);
    const input = this.graph.input.find((v) => v.name === name);
    if (input) input.type = makeTensorType(tensor.dataType, dims);
    this.invalidate();
    return tensor;
  }

  /** Remove a main-graph initializer (and its graph-input entry, if any); false when absent. */
  removeInitializer(name: string): boolean {
    const g = this.graph;
    const at = g.initializer.findIndex((t) => t.name === name);
    if (at < 0) return false;
    g.initializer.splice(at, 1);
    const input = g.input.findIndex((v) => v.name === name);
    if (input >= 0) g.input.splice(input, 1);
    this.invalidate();
    return true;
  }

  /** Append a node to a graph (main by default), or insert it at `index`. Its outputs must be new names. */
  addNode(node: NodeProto, options: { graph?: GraphProto; index?: number } = {}): NodeProto {
    const graph = options.graph ?? this.graph;
    for (const out of node.output) {
      if (out !== '' && graph.node.some((n) => n.output.includes(out))) {
        throw new OnnxError(`cannot add node "${node.name || node.opType}": value "${out}" is already produced in this graph`);
      }
    }
    if (options.index === undefined) graph.node.push(node);
    else graph.node.splice(options.index, 0, node);
    this.invalidate();
    return node;
  }

  private locate(node: NodeProto): { graph: GraphProto; index: number } {
    for (const { graph } of this.graphs()) {
      const index = graph.node.indexOf(node);
      if (index >= 0) return { graph, index };
    }
    throw new OnnxError(`node "${node.name || node.opType}" is not part of this model`);
  }

  /** Remove a node from whichever graph holds it. */
  removeNode(node: NodeProto): void {
    const { graph, index } = this.locate(node);
    graph.node.splice(index, 1);
    this.invalidate();
  }

  /** Put `replacement` node(s) where `node` was, in the same graph. */
  replaceNode(node: NodeProto, replacement: NodeProto | NodeProto[]): void {
    const { graph, index } = this.locate(node);
    graph.node.splice(index, 1, ...(Array.isArray(replacement) ? replacement : [replacement]));
    this.invalidate();
  }

  /**
   * An independent copy of the model's structure. Tensor bytes are shared by default (edits replace
   * tensors rather than writing into them); pass copyTensorData to copy them too.
   */
  clone(options: { copyTensorData?: boolean } = {}): Model {
    const opts = { externalData: this.externalData, sourcePath: this.sourcePath };
    if (options.copyTensorData) return new Model(cloneMessage(ModelProtoSchema, this.proto), opts);
    const tensors = allTensors(this.proto);
    const raw = tensors.map((t) => (isFieldSet(t, TensorProtoSchema.field.rawData) ? t.rawData : undefined));
    const empty = new Uint8Array(0);
    let copy: ModelProto;
    try {
      tensors.forEach((t, i) => raw[i] && (t.rawData = empty));
      copy = cloneMessage(ModelProtoSchema, this.proto);
    } finally {
      tensors.forEach((t, i) => raw[i] && (t.rawData = raw[i]));
    }
    allTensors(copy).forEach((t, i) => raw[i] && (t.rawData = raw[i]));
    return new Model(copy, opts);
  }
}
