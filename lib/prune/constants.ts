// Constant tensors a node reads — initializers of its graph or an enclosing one, or outputs of Constant
// nodes (paddle2onnx and others keep every weight in Constant nodes) — and how pruned values are written back.
import { dtypeInfo, type DTypeName, type TypedArray } from '../onnx/dtype';
import { bfloat16ToFloat32, float16ToFloat32 } from '../onnx/float16';
import type { GraphProto, NodeProto, TensorProto } from '../onnx/gen/onnx_pb';
import type { Model, NodeRef } from '../onnx/model';
import { makeTensor, tensorDims, tensorValues } from '../onnx/tensor';
import { makeTensorType } from '../onnx/value-info';
import { makeAttribute } from '../onnx/attributes';

export interface ConstantRef {
  name: string;
  tensor: TensorProto;
  dims: number[];
  dtype: DTypeName;
  /** The graph holding the initializer, or the Constant node holding the value. */
  holder: { kind: 'initializer'; graph: GraphProto } | { kind: 'constant-node'; node: NodeProto };
}

const FLOAT_TYPES: ReadonlySet<DTypeName> = new Set(['float32', 'float64', 'float16', 'bfloat16']);

export function isFloatType(dtype: DTypeName): boolean {
  return FLOAT_TYPES.has(dtype);
}

function constantNodeTensor(node: NodeProto): TensorProto | undefined {
  if (node.opType !== 'Constant' || (node.domain !== '' && node.domain !== 'ai.onnx')) return undefined;
  const value = node.attribute.find((a) => a.name === 'value');
  if (value?.t) return value.t;
  const float = node.attribute.find((a) => a.name === 'value_float');
  if (float) return makeTensor(node.output[0], new Float32Array([float.f]), []);
  const floats = node.attribute.find((a) => a.name === 'value_floats');
  if (floats) return makeTensor(node.output[0], Float32Array.from(floats.floats), [floats.floats.length]);
  const int = node.attribute.find((a) => a.name === 'value_int');
  if (int) return makeTensor(node.output[0], new BigInt64Array([int.i]), []);
  const ints = node.attribute.find((a) => a.name === 'value_ints');
  if (ints) return makeTensor(node.output[0], BigInt64Array.from(ints.ints), [ints.ints.length]);
  return undefined;
}

/** Lookup of constants by value name, honouring graph scopes (a body sees its parents' constants). */
export class ConstantIndex {
  private readonly byGraph = new Map<GraphProto, Map<string, ConstantRef>>();
  private readonly parents = new Map<GraphProto, GraphProto[]>();

  constructor(private readonly model: Model) {
    for (const ref of model.graphs()) {
      this.parents.set(ref.graph, ref.parents);
      const map = new Map<string, ConstantRef>();
      for (const tensor of ref.graph.initializer) {
        map.set(tensor.name, this.describe(tensor.name, tensor, { kind: 'initializer', graph: ref.graph }));
      }
      for (const node of ref.graph.node) {
        const tensor = constantNodeTensor(node);
        if (tensor && node.output[0]) map.set(node.output[0], this.describe(node.output[0], tensor, { kind: 'constant-node', node }));
      }
      this.byGraph.set(ref.graph, map);
    }
  }

  private describe(name: string, tensor: TensorProto, holder: ConstantRef['holder']): ConstantRef {
    return { name, tensor, dims: tensorDims(tensor), dtype: dtypeInfo(tensor.dataType).name, holder };
  }

  /** Make a constant written under a new name in `graph` visible to lookups. */
  register(graph: GraphProto, tensor: TensorProto): void {
    this.byGraph.get(graph)?.set(tensor.name, this.describe(tensor.name, tensor, { kind: 'initializer', graph }));
  }

  /** The constant `name` as seen from `graph` (innermost scope first). */
  lookup(name: string, graph: GraphProto): ConstantRef | undefined {
    if (name === '') return undefined;
    const chain = [graph, ...[...(this.parents.get(graph) ?? [])].reverse()];
    for (const g of chain) {
      const found = this.byGraph.get(g)?.get(name);
      if (found) return found;
    }
    return undefined;
  }

  /** Elements of a constant as a typed array of its dtype (a view when possible). */
  values(ref: ConstantRef): TypedArray {
    const data = tensorValues(ref.tensor, this.model.externalData);
    if (Array.isArray(data)) throw new TypeError(`constant "${ref.name}" holds strings`);
    return data;
  }

  /** Elements of a float constant as float32/float64 numbers (float16 and bfloat16 are widened). */
  floats(ref: ConstantRef): Float32Array | Float64Array {
    const data = this.values(ref);
    switch (ref.dtype) {
      case 'float32': return data as Float32Array;
      case 'float64': return data as Float64Array;
      case 'float16': return float16ToFloat32(data as Uint16Array);
      case 'bfloat16': return bfloat16ToFloat32(data as Uint16Array);
      default: throw new TypeError(`constant "${ref.name}" is ${ref.dtype}, not a float type`);
    }
  }
}

function usesOf(model: Model, name: string): number {
  let count = 0;
  for (const ref of model.consumers(name)) for (const input of ref.node.input) if (input === name) count++;
  return count;
}

/**
 * Give input `inputIndex` of `consumer` new constant contents. When nothing else reads the old constant it
 * is replaced where it lives; otherwise the consumer gets its own copy under a fresh name, so tied or shared
 * tensors are never changed behind another node's back.
 */
export function writeConstantInput(model: Model, constants: ConstantIndex, consumer: NodeRef, inputIndex: number,
  data: TypedArray, dims: readonly number[]): void {
  const name = consumer.node.input[inputIndex];
  const ref = constants.lookup(name, consumer.graph);
  if (!ref) throw new Error(`input "${name}" of node "${consumer.node.name}" is not a constant`);
  if (usesOf(model, name) === 1) replaceConstant(ref, data, dims);
  else {
    const copy = model.uniqueName(`${name}_pruned`);
    const tensor = makeTensor(copy, data, dims, ref.dtype);
    consumer.graph.initializer.push(tensor);
    consumer.node.input[inputIndex] = copy;
    constants.register(consumer.graph, tensor);
  }
  model.invalidate();
}

/** Replace a constant's contents in place, for every reader (tied weights are pruned together). */
export function replaceConstant(ref: ConstantRef, data: TypedArray, dims: readonly number[]): void {
  const tensor = makeTensor(ref.name, data, dims, ref.dtype);
  tensor.docString = ref.tensor.docString;
  if (ref.holder.kind === 'initializer') {
    const list = ref.holder.graph.initializer;
    list[list.indexOf(ref.tensor)] = tensor;
    const input = ref.holder.graph.input.find((v) => v.name === ref.name);
    if (input) input.type = makeTensorType(ref.dtype, dims);
  } else {
    const node = ref.holder.node;
    node.attribute = [...node.attribute.filter((a) => !a.name.startsWith('value')), makeAttribute('value', tensor)];
  }
  ref.tensor = tensor;
  ref.dims = [...dims];
}
