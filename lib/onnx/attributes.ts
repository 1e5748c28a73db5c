// NodeProto attributes: encode plain JS values (with explicit wrappers where a number is ambiguous) and decode them.
import { create } from '@bufbuild/protobuf';
import {
  AttributeProto_AttributeType as AttrType, AttributeProtoSchema, NodeProtoSchema,
  type AttributeProto, type GraphProto, type NodeProto, type SparseTensorProto, type TensorProto, type TypeProto,
} from './gen/onnx_pb';

export { AttrType };

/** An attribute value with its type spelled out, for values whose JS type is ambiguous (1 as a float). */
export interface TypedAttribute {
  readonly attrType: AttrType;
  readonly value: unknown;
}

/**
 * Attribute values: integer numbers and bigints become INT, other numbers FLOAT, strings STRING,
 * arrays their list forms, TensorProto TENSOR, GraphProto GRAPH. Use `attr.*` to force a type.
 */
export type AttributeValue =
  | number | bigint | string | Uint8Array | number[] | bigint[] | string[]
  | TensorProto | TensorProto[] | GraphProto | GraphProto[] | TypedAttribute;

export const attr = {
  int: (v: number | bigint): TypedAttribute => ({ attrType: AttrType.INT, value: v }),
  float: (v: number): TypedAttribute => ({ attrType: AttrType.FLOAT, value: v }),
  string: (v: string | Uint8Array): TypedAttribute => ({ attrType: AttrType.STRING, value: v }),
  ints: (v: readonly (number | bigint)[]): TypedAttribute => ({ attrType: AttrType.INTS, value: v }),
  floats: (v: readonly number[]): TypedAttribute => ({ attrType: AttrType.FLOATS, value: v }),
  strings: (v: readonly string[]): TypedAttribute => ({ attrType: AttrType.STRINGS, value: v }),
  tensor: (v: TensorProto): TypedAttribute => ({ attrType: AttrType.TENSOR, value: v }),
  tensors: (v: readonly TensorProto[]): TypedAttribute => ({ attrType: AttrType.TENSORS, value: v }),
  graph: (v: GraphProto): TypedAttribute => ({ attrType: AttrType.GRAPH, value: v }),
  graphs: (v: readonly GraphProto[]): TypedAttribute => ({ attrType: AttrType.GRAPHS, value: v }),
};

const typeNameOf = (v: unknown): string | undefined =>
  typeof v === 'object' && v !== null && '$typeName' in v ? String((v as { $typeName: unknown }).$typeName) : undefined;

function inferType(name: string, value: AttributeValue): TypedAttribute {
  if (typeof value === 'object' && value !== null && 'attrType' in value) return value;
  if (typeof value === 'bigint') return attr.int(value);
  if (typeof value === 'number') return Number.isInteger(value) ? attr.int(value) : attr.float(value);
  if (typeof value === 'string' || ArrayBuffer.isView(value)) return attr.string(value as string | Uint8Array);
  if (Array.isArray(value)) {
    if (value.length === 0) throw new TypeError(`attribute "${name}": an empty list needs attr.ints([]) / attr.floats([]) / ...`);
    const first = value[0] as unknown;
    if (typeof first === 'string') return attr.strings(value as string[]);
    if (typeNameOf(first) === 'onnx.TensorProto') return attr.tensors(value as TensorProto[]);
    if (typeNameOf(first) === 'onnx.GraphProto') return attr.graphs(value as GraphProto[]);
    if ((value as unknown[]).every((v) => typeof v === 'bigint' || Number.isInteger(v))) return attr.ints(value as number[]);
    return attr.floats(value as number[]);
  }
  if (typeNameOf(value) === 'onnx.TensorProto') return attr.tensor(value as TensorProto);
  if (typeNameOf(value) === 'onnx.GraphProto') return attr.graph(value as GraphProto);
  throw new TypeError(`attribute "${name}": cannot encode ${typeof value}`);
}

function toInt64(name: string, v: number | bigint): bigint {
  if (typeof v === 'bigint') return v;
  if (!Number.isSafeInteger(v)) throw new RangeError(`attribute "${name}": ${v} is not a safe integer`);
  return BigInt(v);
}

export function makeAttribute(name: string, value: AttributeValue): AttributeProto {
  const typed = inferType(name, value);
  const a = create(AttributeProtoSchema, { name, type: typed.attrType });
  const v = typed.value;
  switch (typed.attrType) {
    case AttrType.INT: a.i = toInt64(name, v as number | bigint); break;
    case AttrType.FLOAT: a.f = v as number; break;
    case AttrType.STRING: a.s = typeof v === 'string' ? new TextEncoder().encode(v) : (v as Uint8Array); break;
    case AttrType.INTS: a.ints = (v as (number | bigint)[]).map((x) => toInt64(name, x)); break;
    case AttrType.FLOATS: a.floats = [...(v as number[])]; break;
    case AttrType.STRINGS: a.strings = (v as string[]).map((s) => new TextEncoder().encode(s)); break;
    case AttrType.TENSOR: a.t = v as TensorProto; break;
    case AttrType.TENSORS: a.tensors = [...(v as TensorProto[])]; break;
    case AttrType.GRAPH: a.g = v as GraphProto; break;
    case AttrType.GRAPHS: a.graphs = [...(v as GraphProto[])]; break;
    default: throw new TypeError(`attribute "${name}": unsupported attribute type ${AttrType[typed.attrType]}`);
  }
  return a;
}

export type DecodedAttribute =
  | number | string | number[] | string[] | TensorProto | TensorProto[] | GraphProto | GraphProto[]
  | SparseTensorProto | SparseTensorProto[] | TypeProto | TypeProto[] | undefined;

/** An attribute's value as plain JS (INT64 values become numbers; strings are decoded as UTF-8). */
export function decodeAttribute(a: AttributeProto): DecodedAttribute {
  const text = (b: Uint8Array): string => new TextDecoder().decode(b);
  switch (a.type) {
    case AttrType.INT: return Number(a.i);
    case AttrType.FLOAT: return a.f;
    case AttrType.STRING: return text(a.s);
    case AttrType.INTS: return a.ints.map(Number);
    case AttrType.FLOATS: return [...a.floats];
    case AttrType.STRINGS: return a.strings.map(text);
    case AttrType.TENSOR: return a.t;
    case AttrType.TENSORS: return a.tensors;
    case AttrType.GRAPH: return a.g;
    case AttrType.GRAPHS: return a.graphs;
    case AttrType.SPARSE_TENSOR: return a.sparseTensor;
    case AttrType.SPARSE_TENSORS: return a.sparseTensors;
    case AttrType.TYPE_PROTO: return a.tp;
    case AttrType.TYPE_PROTOS: return a.typeProtos;
    default: return undefined;
  }
}

/** Decoded value of a node's attribute, or undefined when absent. */
export function getAttribute(node: NodeProto, name: string): DecodedAttribute {
  const a = node.attribute.find((x) => x.name === name);
  return a ? decodeAttribute(a) : undefined;
}

export interface NodeOptions {
  name?: string;
  domain?: string;
}

export function makeNode(opType: string, inputs: readonly string[], outputs: readonly string[],
  attrs: Record<string, AttributeValue> = {}, options: NodeOptions = {}): NodeProto {
  const node = create(NodeProtoSchema, {
    opType,
    input: [...inputs],
    output: [...outputs],
    attribute: Object.entries(attrs).map(([name, value]) => makeAttribute(name, value)),
  });
  if (options.name !== undefined) node.name = options.name;
  if (options.domain !== undefined && options.domain !== '') node.domain = options.domain;
  return node;
}
