// Appends nodes and constants to a model's main graph under fresh names. The backward pass, the
// losses and the optimizer all write through it, so every op they emit is spelled once, in the form
// the training graph's opset (16 or later, see training-opset.ts) expects.
import { makeNode, type AttributeValue } from '../onnx/attributes';
import type { DTypeName, TypedArray } from '../onnx/dtype';
import { create } from '@bufbuild/protobuf';
import { ValueInfoProtoSchema, type GraphProto } from '../onnx/gen/onnx_pb';
import type { Model } from '../onnx/model';
import { makeTensor } from '../onnx/tensor';
import { makeValueInfo } from '../onnx/value-info';

/** The float types gradients are computed in. */
export type FloatType = 'float32' | 'float64';

export class GraphWriter {
  readonly graph: GraphProto;
  private readonly names = new Set<string>();
  private readonly constants = new Map<string, string>();

  constructor(readonly model: Model, private readonly prefix: string) {
    this.graph = model.graph;
    for (const v of [...this.graph.input, ...this.graph.output, ...this.graph.valueInfo]) this.names.add(v.name);
    for (const t of this.graph.initializer) this.names.add(t.name);
    for (const n of this.graph.node) {
      if (n.name) this.names.add(n.name);
      for (const v of [...n.input, ...n.output]) this.names.add(v);
    }
  }

  /** A name no value or node of the graph uses yet, reserved on return. */
  fresh(hint: string): string {
    const base = `${this.prefix}${hint}`;
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  /** Declare a new graph input (fed every step). */
  input(hint: string, dtype: DTypeName, dims: readonly number[]): string {
    const name = this.fresh(hint);
    this.graph.input.push(makeValueInfo(name, dtype, dims));
    return name;
  }

  /** Declare an existing value as a graph output. */
  output(name: string): void {
    this.graph.output.push(create(ValueInfoProtoSchema, { name }));
  }

  /** Append a node; returns its output names (`outputs` fresh ones, or the names given). */
  nodeOutputs(op: string, inputs: readonly string[], attrs: Record<string, AttributeValue> = {}, outputs: number | readonly string[] = 1): string[] {
    const names = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.fresh(op)) : [...outputs];
    this.graph.node.push(makeNode(op, inputs, names, attrs, { name: this.fresh(`${op}_node`) }));
    return names;
  }

  /** Append a single-output node; returns its output. */
  op(op: string, inputs: readonly string[], attrs: Record<string, AttributeValue> = {}, output?: string): string {
    return this.nodeOutputs(op, inputs, attrs, output === undefined ? 1 : [output])[0];
  }

  /** A new initializer holding `data` (viewed, not copied). */
  initializer(hint: string, data: TypedArray, dims: readonly number[], dtype?: DTypeName): string {
    const name = this.fresh(hint);
    this.graph.initializer.push(makeTensor(name, data, dims, dtype));
    return name;
  }

  /** A small constant (axes, shapes, scalars), shared by every caller asking for the same values. */
  constant(data: TypedArray, dims: readonly number[], dtype?: DTypeName): string {
    const key = `${dtype ?? Object.prototype.toString.call(data)}[${dims.join(',')}]${Array.from(data as ArrayLike<number | bigint>, String).join(',')}`;
    const known = this.constants.get(key);
    if (known !== undefined) return known;
    const name = this.initializer('const', data, dims, dtype);
    this.constants.set(key, name);
    return name;
  }

  /** A 0-d float constant of the given type. */
  scalar(value: number, dtype: FloatType): string {
    return this.constant(dtype === 'float64' ? Float64Array.of(value) : Float32Array.of(value), [], dtype);
  }

  /** A 1-d int64 constant (shapes, axes, pads, slice bounds). */
  ints(values: readonly number[]): string {
    return this.constant(BigInt64Array.from(values, (v) => BigInt(v)), [values.length], 'int64');
  }

  reshape(x: string, dims: readonly number[]): string {
    return this.op('Reshape', [x, this.ints(dims)]);
  }

  /** ReduceSum over `axes` (opset 13+ form: axes as an input). */
  reduceSum(x: string, axes: readonly number[], keepdims: boolean): string {
    return this.op('ReduceSum', [x, this.ints(axes)], { keepdims: keepdims ? 1 : 0 });
  }

  /** ReduceSum over every axis, to a 0-d value. */
  sumAll(x: string): string {
    return this.op('ReduceSum', [x], { keepdims: 0 });
  }

  transpose(x: string, perm: readonly number[]): string {
    return this.op('Transpose', [x], { perm: [...perm] });
  }

  /** Zeros of a given shape and float type. */
  zeros(dims: readonly number[], dtype: FloatType): string {
    const value = makeTensor('', dtype === 'float64' ? new Float64Array(1) : new Float32Array(1), [1]);
    return this.op('ConstantOfShape', [this.ints(dims)], { value });
  }
}
