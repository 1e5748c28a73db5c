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
  kind: 'input' | 'initializer' | 'constant' | 'node';
  home: Precision;
  readers: Reader[];
}

export interface PrecisionPlan {
  /** Every node, with whether it stays float32. */
  kept: Map<NodeProto, boolean>;
  /** float32 values by name. */
  values: Map<string, FloatValue>;
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
    for (const t of graph.initializer) define(t.name, { graph, kind: 'initializer', home: 'low' });
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
        define(name, { graph, producer: node, kind: node.opType === 'Constant' && !keep ? 'constant' : 'node', home });
      });
      for (const sub of subgraphsOf(node)) visit(sub.graph, precision, keep);
    }
  };
  visit(model.graph, undefined, false);

  for (const { name, reader } of pendingReaders) values.get(name)?.readers.push(reader);
  // Weights and constants are stored as their readers want them; float32 when any reader needs float32.
  for (const value of values.values()) {
    if (value.kind !== 'initializer' && value.kind !== 'constant') continue;
    value.home = value.readers.some((r) => r.precision === 'high') ? 'high' : 'low';
  }
  return { kept, values };
}
