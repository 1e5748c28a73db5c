// One definition per op: how its outputs' types and shapes follow from its inputs, how to
// evaluate it on constants (shape arithmetic, weight preparation), and which steps run it.
import type { DTypeName } from '../../../onnx/dtype';
import type { IrNode } from '../ir';
import type { LowerContext, ValueRef } from '../lower-context';
import type { ConstTensor } from '../tensor-data';

/** An input as the specialization knows it: type, static shape and, when constant, its value. */
export interface Shaped {
  dtype: DTypeName;
  dims: number[];
  value?: ConstTensor;
  /** The value's name, for constants the model already holds. */
  name?: string;
}

export interface OutputType {
  dtype: DTypeName;
  dims: number[];
}

export interface LowerArgs {
  ctx: LowerContext;
  node: IrNode;
  opset: number;
  /** Input tensors (undefined for absent optional inputs); constants are in `shaped[i].value`. */
  inputs: (ValueRef | undefined)[];
  shaped: (Shaped | undefined)[];
  outputs: OutputType[];
}

export interface OpDef {
  /** Output types and shapes; throws LoweringError for inputs it cannot accept. */
  infer(node: IrNode, inputs: (Shaped | undefined)[], opset: number): OutputType[];
  /** Outputs computed on the spot, when `foldable` says the inputs allow it. */
  fold?(node: IrNode, inputs: (Shaped | undefined)[], opset: number): ConstTensor[];
  /** Default: every present input is constant. Shape folds on any input. */
  foldable?(inputs: (Shaped | undefined)[]): boolean;
  /** Inputs that must be constant for the native engine (shape arguments). */
  constInputs?: number[];
  /** Steps for the node; returns its outputs (views or new values). */
  lower(args: LowerArgs): ValueRef[];
}
