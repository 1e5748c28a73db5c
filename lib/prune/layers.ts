// The layers pruning works on: MatMul, Gemm and Conv nodes whose weight is a constant, each with a view
// of its weight as `batch` matrices of k (reduction) x n (outputs).
import type { Model, NodeRef } from '../onnx/model';
import { getAttribute } from '../onnx/attributes';
import type { ConstantIndex, ConstantRef } from './constants';

export type LayerOp = 'MatMul' | 'Gemm' | 'Conv';

export interface WeightedLayer {
  ref: NodeRef;
  op: LayerOp;
  /** The node's name, else its weight's name. */
  name: string;
  weight: ConstantRef;
  /** Weights per matrix along the reduction (input) axis and the output axis. */
  k: number;
  n: number;
  /** Matrices stacked in the tensor (a batched MatMul weight); 1 otherwise. */
  batch: number;
  /** 'kn': stored [batch.., k, n] (MatMul, Gemm). 'nk': stored [n, k..] (Gemm transB, Conv). */
  layout: 'kn' | 'nk';
}

const product = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

function describeLayer(ref: NodeRef, weight: ConstantRef): Omit<WeightedLayer, 'ref' | 'name' | 'weight'> | undefined {
  const { node } = ref;
  const dims = weight.dims;
  switch (node.opType) {
    case 'MatMul':
      if (dims.length < 2) return undefined;
      return { op: 'MatMul', k: dims[dims.length - 2], n: dims[dims.length - 1], batch: product(dims.slice(0, -2)), layout: 'kn' };
    case 'Gemm': {
      if (dims.length !== 2) return undefined;
      const transB = getAttribute(node, 'transB') === 1;
      return transB
        ? { op: 'Gemm', k: dims[1], n: dims[0], batch: 1, layout: 'nk' }
        : { op: 'Gemm', k: dims[0], n: dims[1], batch: 1, layout: 'kn' };
    }
    case 'Conv':
      if (dims.length < 3) return undefined;
      return { op: 'Conv', k: product(dims.slice(1)), n: dims[0], batch: 1, layout: 'nk' };
    default:
      return undefined;
  }
}

/** The weighted layer a node is, if it is one (default-domain MatMul/Gemm/Conv with a constant weight). */
export function asWeightedLayer(ref: NodeRef, constants: ConstantIndex): WeightedLayer | undefined {
  if (ref.node.domain !== '' && ref.node.domain !== 'ai.onnx') return undefined;
  const weight = constants.lookup(ref.node.input[1] ?? '', ref.graph);
  if (!weight) return undefined;
  const shape = describeLayer(ref, weight);
  return shape && { ref, name: ref.node.name || weight.name, weight, ...shape };
}

/** Every weighted layer in the model, subgraphs included, in dependency order. */
export function weightedLayers(model: Model, constants: ConstantIndex): WeightedLayer[] {
  return model.nodes().flatMap((ref) => asWeightedLayer(ref, constants) ?? []);
}

/** Names a user may give for a layer: its node name and its weight's name. */
export function layerNames(layer: WeightedLayer): string[] {
  return [layer.ref.node.name, layer.weight.name].filter((n) => n !== '');
}
