// The engine's view of a model's main graph: nodes in dependency order with decoded
// attributes, and every constant (initializers and Constant nodes) decoded once.
import { AttrType, decodeAttribute } from '../../onnx/attributes';
import type { AttributeProto, TensorProto } from '../../onnx/gen/onnx_pb';
import type { DTypeName, TypedArray } from '../../onnx/dtype';
import type { Model } from '../../onnx/model';
import { decodeTensor } from '../../onnx/tensor';
import { sortNodes } from '../../onnx/topo';
import { describeValueInfo, type Dim } from '../../onnx/value-info';
import { ModelValidationError } from '../../onnx/errors';
import { tensorFrom, type ConstTensor } from './tensor-data';

export type AttrValue = number | string | number[] | string[] | ConstTensor | undefined | { subgraph: true };

export interface IrNode {
  op: string;
  /** '' for the default ONNX domain (ai.onnx), 'onnxforge' for the engine's own fused ops. */
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

export interface IrValueInfo {
  name: string;
  /** undefined for non-tensor values or an unstated type. */
  dtype: DTypeName | undefined;
  dims: readonly Dim[] | undefined;
}

export interface IrGraph {
  nodes: IrNode[];
  constants: Map<string, ConstTensor>;
  inputs: IrValueInfo[];
  outputs: IrValueInfo[];
  /** Default-domain opset. */
  opset: number;
}

export const ENGINE_DOMAIN = 'onnxforge';

function decodeTensorProto(model: Model, tensor: TensorProto): ConstTensor {
  const t = decodeTensor(tensor, model.externalData);
  if (Array.isArray(t.data)) return { dtype: t.dtype, dims: t.dims, data: new Uint8Array(0) };
  return { dtype: t.dtype, dims: t.dims, data: t.data as TypedArray };
}

function attrValue(model: Model, a: AttributeProto): AttrValue {
  if (a.type === AttrType.TENSOR && a.t) return decodeTensorProto(model, a.t);
  if (a.type === AttrType.GRAPH || a.type === AttrType.GRAPHS) return { subgraph: true };
  const v = decodeAttribute(a);
  if (typeof v === 'number' || typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return v as number[];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  return undefined;
}

/** A Constant node's value, in any of its attribute spellings. */
function constantNodeValue(attrs: Record<string, AttrValue>): ConstTensor | undefined {
  const v = attrs.value;
  if (v && typeof v === 'object' && 'dtype' in v) return v;
  if (typeof attrs.value_float === 'number') return tensorFrom('float32', [], [attrs.value_float]);
  if (Array.isArray(attrs.value_floats)) return tensorFrom('float32', [attrs.value_floats.length], attrs.value_floats as number[]);
  if (typeof attrs.value_int === 'number') return tensorFrom('int64', [], [attrs.value_int]);
  if (Array.isArray(attrs.value_ints)) return tensorFrom('int64', [attrs.value_ints.length], attrs.value_ints as number[]);
  return undefined;
}

function normalizeDomain(domain: string): string {
  return domain === 'ai.onnx' ? '' : domain;
}

export function importGraph(model: Model): IrGraph {
  const graph = model.graph;
  const constants = new Map<string, ConstTensor>();
  for (const init of graph.initializer) constants.set(init.name, decodeTensorProto(model, init));
  const { order, cycle } = sortNodes(graph);
  if (cycle) throw new ModelValidationError([`nodes form a cycle: ${cycle.join(' -> ')}`]);
  const nodes: IrNode[] = [];
  for (const i of order) {
    const n = graph.node[i];
    const attrs: Record<string, AttrValue> = {};
    for (const a of n.attribute) attrs[a.name] = attrValue(model, a);
    const node: IrNode = {
      op: n.opType, domain: normalizeDomain(n.domain), name: n.name || `${n.opType}_${i}`,
      inputs: [...n.input], outputs: [...n.output], attrs,
    };
    const value = node.op === 'Constant' && node.domain === '' ? constantNodeValue(attrs) : undefined;
    if (value && node.outputs[0]) {
      constants.set(node.outputs[0], value);
      continue;
    }
    nodes.push(node);
  }
  const info = (list: typeof graph.input): IrValueInfo[] => list.map((proto) => {
    const v = describeValueInfo(proto);
    return { name: v.name, dtype: v.kind === 'tensor' ? v.dtype : undefined, dims: v.dims };
  });
  return {
    nodes, constants,
    inputs: info(graph.input.filter((v) => !constants.has(v.name))),
    outputs: info(graph.output),
    opset: model.opsetVersion('') ?? 1,
  };
}

export function intAttr(node: IrNode, name: string, fallback: number): number {
  const v = node.attrs[name];
  return typeof v === 'number' ? v : fallback;
}

export function floatAttr(node: IrNode, name: string, fallback: number): number {
  const v = node.attrs[name];
  return typeof v === 'number' ? v : fallback;
}

export function intsAttr(node: IrNode, name: string): number[] | undefined {
  const v = node.attrs[name];
  return Array.isArray(v) ? (v as number[]) : undefined;
}

export function stringAttr(node: IrNode, name: string, fallback: string): string {
  const v = node.attrs[name];
  return typeof v === 'string' ? v : fallback;
}
