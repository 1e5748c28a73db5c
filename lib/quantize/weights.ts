// The constant weight of a MatMul, Gemm, Conv or Gather node, in the layout the rewrites need
// ([K, N] for linear layers), or the reason the node has none.
import { getAttribute } from '../onnx/attributes';
import type { NodeRef } from '../onnx/model';
import { dtypeInfo } from '../onnx/dtype';
import type { ConstantRef, GraphScope } from './graph-scope';
import { transpose2d } from './quant-math';

export interface LinearWeight {
  /** Row-major [K, N]: what MatMul multiplies by. */
  values: Float32Array;
  k: number;
  n: number;
  ref: ConstantRef;
  /** 'kn' as stored, 'nk' when transposed from a Gemm with transB. */
  variant: 'kn' | 'nk';
}

export interface GemmParts {
  weight: LinearWeight;
  alpha: number;
  beta: number;
  /** Name of C, or undefined. */
  c: string | undefined;
}

export interface ConvWeight {
  values: Float32Array;
  dims: number[];
  ref: ConstantRef;
}

function describeMissing(scope: GraphScope, name: string, ref: NodeRef, what: string): string {
  const constant = scope.findConstant(name, ref.graph);
  if (!constant) return `${what} is not a constant (an activation)`;
  return `${what} is ${dtypeInfo(constant.tensor.dataType).name}; only float32 weights are quantized`;
}

export function matmulWeight(scope: GraphScope, ref: NodeRef): LinearWeight | string {
  const name = ref.node.input[1];
  const w = scope.floatConstant(name, ref.graph);
  if (!w) return describeMissing(scope, name, ref, 'the second input');
  if (w.dims.length !== 2) return `the weight has ${w.dims.length} dims; only 2-D MatMul weights are quantized`;
  return { values: w.values, k: w.dims[0], n: w.dims[1], ref: w.ref, variant: 'kn' };
}

export function gemmParts(scope: GraphScope, ref: NodeRef): GemmParts | string {
  const node = ref.node;
  if ((getAttribute(node, 'transA') ?? 0) !== 0) return 'transA=1 is not supported';
  const name = node.input[1];
  const w = scope.floatConstant(name, ref.graph);
  if (!w) return describeMissing(scope, name, ref, 'B');
  if (w.dims.length !== 2) return `B has ${w.dims.length} dims`;
  const transB = (getAttribute(node, 'transB') ?? 0) !== 0;
  const [rows, cols] = w.dims;
  const weight: LinearWeight = transB
    ? { values: transpose2d(w.values, rows, cols), k: cols, n: rows, ref: w.ref, variant: 'nk' }
    : { values: w.values, k: rows, n: cols, ref: w.ref, variant: 'kn' };
  return {
    weight,
    alpha: (getAttribute(node, 'alpha') as number | undefined) ?? 1,
    beta: (getAttribute(node, 'beta') as number | undefined) ?? 1,
    c: node.input[2] || undefined,
  };
}

export function convWeight(scope: GraphScope, ref: NodeRef): ConvWeight | string {
  const name = ref.node.input[1];
  const w = scope.floatConstant(name, ref.graph);
  if (!w) return describeMissing(scope, name, ref, 'the weight');
  if (w.dims.length < 3) return `the weight has ${w.dims.length} dims`;
  return { values: w.values, dims: w.dims, ref: w.ref };
}

/** An embedding table: Gather over axis 0 of a constant 2-D float tensor. */
export function gatherTable(scope: GraphScope, ref: NodeRef): ConvWeight | string {
  if (((getAttribute(ref.node, 'axis') as number | undefined) ?? 0) !== 0) return 'only Gather over axis 0 (embedding lookups) is quantized';
  const name = ref.node.input[0];
  const w = scope.floatConstant(name, ref.graph);
  if (!w) return describeMissing(scope, name, ref, 'the data input');
  if (w.dims.length !== 2) return `the table has ${w.dims.length} dims; only 2-D embedding tables are quantized`;
  return { values: w.values, dims: w.dims, ref: w.ref };
}

/** Scalar-broadcast shape [channels, 1, ..., 1] that lines a per-channel vector up with axis 1 of an output of `rank`. */
export function channelShape(channels: number, rank: number): number[] {
  return [channels, ...Array.from({ length: Math.max(0, rank - 2) }, () => 1)];
}
