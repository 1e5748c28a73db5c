// Decides, for a float32 -> 16-bit conversion, which nodes stay float32 ("high") and which run in the
// narrow type ("low"), where every float32 value is stored, and which readers of a value need it in the
// other precision (each such pair becomes one Cast). Values are stored in their producer's precision;
// initializers and Constants follow their readers, so a weight read only by kept ops stays float32.
import type { GraphProto, NodeProto } from '../onnx/gen/onnx_pb';
import { DataType } from '../onnx/dtype';
import type { Model } from '../onnx/model';
import { subgraphsOf } from '../onnx/proto-walk';
import {
  acceptsAnyFloat, DEFAULT_BLOCKED_OPS, isDefaultDomain, isFloat32Output, NON_TENSOR_OPS, schemaFloatSupport,
} from './block-list';
import type { ElemTypes } from './elem-types';
import type { LowFloat } from './narrow-floats';

export type Precision = 'low' | 'high';

export interface PrecisionOptions {
  keepIoTypes?: boolean;
  blockOps?: readonly string[];
  blockNodes?: readonly string[];
  defaultBlockList?: boolean;
}

/** A place that reads a value: a node input, or a graph output. */
export interface Reader {
  graph: GraphProto;
  node?: NodeProto;
  /** Input index for a node, output index for a graph output. */
  index: number;
  precision: Precision | 'any';
}

export interface FloatValue {
  name: string;
  /** The graph that defines the value (where a Cast of it goes). */
  graph: GraphProto;
  /** The node that produces it; undefined for graph inputs and initializers. */
  producer?: NodeProto;
  /** 'cast': made by a Cast to float32, which can make whichever precision its readers need. */
  kind: 'input' | 'initializer' | 'constant' | 'cast' | 'node';
  /** Rank of an initializer or Constant. */
  rank?: number;
  home: Precision;
  readers: Reader[];
}

export interface PrecisionPlan {
  /** Every node, with whether it stays float32. */
  kept: Map<NodeProto, boolean>;
  /** float32 values by name. */
  values: Map<string, FloatValue>;
  /** Nodes kept in float32 only because converting them would add Casts and nothing else. */
  castAvoiders: Set<NodeProto>;
}

/**
 * A node stays float32 when the block list or the options name it, when it is outside the default ONNX
 * domain or works on sequences, or when its schema at the model's opset has no `dtype` version.
 */
function blockPredicate(options: PrecisionOptions, dtype: LowFloat, opset: number): (node: NodeProto) => boolean {
  const ops = new Set([...(options.defaultBlockList === false ? [] : DEFAULT_BLOCKED_OPS), ...(options.blockOps ?? [])]);
  const names = new Set(options.blockNodes ?? []);
  return (node) => !isDefaultDomain(node.domain) || NON_TENSOR_OPS.has(node.opType) || ops.has(node.opType)
    || (node.name !== '' && names.has(node.name))
    || schemaFloatSupport(node.opType, opset)?.admits(dtype) === false;
}

export function planPrecision(model: Model, types: ElemTypes, dtype: LowFloat, options: PrecisionOptions): PrecisionPlan {
  const opset = model.opsetVersion('') ?? 1;
  const isBlocked = blockPredicate(options, dtype, opset);
  const isFloat32 = (name: string) => name !== '' && types.get(name) === DataType.FLOAT;
  const kept = new Map<NodeProto, boolean>();
  const values = new Map<string, FloatValue>();
  const pendingReaders: { name: string; reader: Reader }[] = [];
  const ioPrecision: Precision = options.keepIoTypes ? 'high' : 'low';

  const define = (name: string, value: Omit<FloatValue, 'name' | 'readers'>): void => {
    if (isFloat32(name) && !values.has(name)) values.set(name, { name, readers: [], ...value });
  };
  const read = (name: string, reader: Reader): void => {
    if (isFloat32(name)) pendingReaders.push({ name, reader });
  };

  // `owner` is the precision of the node holding this graph (undefined for the main graph).
  const visit = (graph: GraphProto, owner: Precision | undefined, inheritedKeep: boolean): void => {
    const boundary = owner ?? ioPrecision;
    const initializers = new Set(graph.initializer.map((t) => t.name));
    for (const input of graph.input) {
      if (!initializers.has(input.name)) define(input.name, { graph, kind: 'input', home: boundary });
    }
    for (const t of graph.initializer) define(t.name, { graph, kind: 'initializer', home: 'low', rank: t.dims.length });
    graph.output.forEach((output, index) => read(output.name, { graph, index, precision: boundary }));
    for (const node of graph.node) {
      const keep = inheritedKeep || isBlocked(node);
      kept.set(node, keep);
      const precision: Precision = keep ? 'high' : 'low';
      const float32Inputs = isDefaultDomain(node.domain) ? schemaFloatSupport(node.opType, opset)?.float32Inputs ?? [] : [];
      node.input.forEach((name, index) => {
        const wanted = acceptsAnyFloat(node.opType, index) ? 'any' : float32Inputs.includes(index) ? 'high' : precision;
        read(name, { graph, node, index, precision: wanted });
      });
      node.output.forEach((name, index) => {
        const home = isFloat32Output(node.opType, index) ? 'high' : precision;
        const constant = node.opType === 'Constant' && !keep;
        const kind = constant ? 'constant' : node.opType === 'Cast' && !keep ? 'cast' : 'node';
        define(name, { graph, producer: node, kind, home, rank: constant ? constantRank(node) : undefined });
      });
      for (const sub of subgraphsOf(node)) visit(sub.graph, precision, keep);
    }
  };
  visit(model.graph, undefined, false);

  for (const { name, reader } of pendingReaders) values.get(name)?.readers.push(reader);
  settleStoredValues(values);
  const castAvoiders = keepNodesBetweenKeptOps(model, kept, values);
  return { kept, values, castAvoiders };
}

function constantRank(node: NodeProto): number | undefined {
  const a = node.attribute.find((x) => x.name === 'value' || x.name === 'value_float' || x.name === 'value_floats');
  if (a?.name === 'value_float') return 0;
  if (a?.name === 'value_floats') return 1;
  return a?.t?.dims.length;
}

const isStored = (value: FloatValue) => value.kind === 'initializer' || value.kind === 'constant';

/**
 * Weights, constants and Casts to float32 are made as their readers want them; float32 when any reader
 * needs float32 (so a converted model converts again to itself).
 */
function settleStoredValues(values: Map<string, FloatValue>): void {
  for (const value of values.values()) {
    if (isStored(value) || value.kind === 'cast') value.home = value.readers.some((r) => r.precision === 'high') ? 'high' : 'low';
  }
}

/**
 * A group of converted nodes that sits between kept ones (Add and Relu of a residual block between kept
 * Convs) gains nothing from 16 bits and costs a Cast at every edge: keep the group in float32 too, to a
 * fixpoint. Groups that read more than bias-sized constants stay converted (their weights shrink), and so
 * do groups at the graph's inputs and outputs.
 */
function keepNodesBetweenKeptOps(model: Model, kept: Map<NodeProto, boolean>, values: Map<string, FloatValue>): Set<NodeProto> {
  const flipped = new Set<NodeProto>();
  // Scalars and vectors (biases, scales) may stay float32 with their group; matrices and kernels may not.
  const small = (v: FloatValue) => isStored(v) && (v.rank ?? Infinity) <= 1;
  const fromKeptNode = (v: FloatValue) => v.kind === 'node' && v.producer !== undefined && kept.get(v.producer) === true && v.home === 'high';
  for (let changed = true; changed;) {
    changed = false;
    const candidates = model.nodes().map((r) => r.node)
      .filter((n) => kept.get(n) === false && n.opType !== 'Constant' && subgraphsOf(n).length === 0);
    const group = new Map<NodeProto, NodeProto>(candidates.map((n) => [n, n]));
    const root = (n: NodeProto): NodeProto => {
      let r = n;
      while (group.get(r) !== r) r = group.get(r)!;
      return r;
    };
    for (const v of values.values()) {
      if (!v.producer || !group.has(v.producer)) continue;
      for (const r of v.readers) if (r.node && r.precision === 'low' && group.has(r.node)) group.set(root(r.node), root(v.producer));
    }
    const members = new Map<NodeProto, NodeProto[]>();
    for (const n of candidates) members.set(root(n), [...(members.get(root(n)) ?? []), n]);
    for (const nodes of members.values()) {
      const inGroup = new Set(nodes);
      const lowReads = nodes.flatMap((node) => node.input.map((name, index) => ({ node, index, value: values.get(name) })))
        .filter((x): x is { node: NodeProto; index: number; value: FloatValue } => x.value !== undefined)
        .filter(({ node, index, value }) => value.readers.some((r) => r.node === node && r.index === index && r.precision === 'low'));
      const outside = lowReads.filter(({ value }) => !(value.producer && inGroup.has(value.producer)) && !small(value));
      if (lowReads.length === 0 || !outside.every(({ value }) => fromKeptNode(value))) continue;
      const outputs = nodes.flatMap((n) => n.output.map((name) => values.get(name))).filter((v): v is FloatValue => v !== undefined);
      const leavesToKept = outputs.every((v) => v.readers.every((r) => r.precision === 'any'
        || (r.node !== undefined && (inGroup.has(r.node) || r.precision === 'high'))));
      if (!leavesToKept) continue;
      for (const { node, index, value } of lowReads) for (const r of value.readers) if (r.node === node && r.index === index) r.precision = 'high';
      for (const v of outputs) v.home = 'high';
      for (const n of nodes) {
        kept.set(n, true);
        flipped.add(n);
      }
      changed = true;
    }
    settleStoredValues(values);
  }
  return flipped;
}
