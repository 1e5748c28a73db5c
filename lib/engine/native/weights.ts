// Which kernel each linear layer runs on, and the engineWeights call that packs them.
import type { EngineLayer, EngineWeights, NativeBinding } from '../../../binding';
import type { LinearLayer } from './linear-layers';
import { isQuantizedLayer } from './linear-layers';
import type { PreparedModel } from './prepare';
import { ENGINE_DTYPES } from './tensor-data';

export type LinearKind = 'dense' | 'sparse' | 'int8' | 'sparse-int8';

/**
 * Sparsity from which the sparse kernels beat the dense ones.
 * - float32, int8 (linear layers; bench/results/sparse.md, 768 x 3072, m = 1-128): float32 sparse passes
 *   dense between 80% and 90% (90%: 1.0-2.8x; 80%: 0.6-1.8x); sparse int8 passes dense int8 only near 95%
 *   (90%: 0.86-1.07x; 95%: 0.85-1.48x).
 * - convFloat32 (convolutions: their products run over output pixels x batch rows, 49 and up per image, on
 *   the sparse kernel's 64-row tiles): at 80% every ResNet-18 conv (k = 64-4608) runs 1.5-1.9x faster sparse
 *   than dense (`engine-conv --layers`, bench/results/engine-conv-sparse-layers.md). 70%: where the kernels
 *   alone broke even at those shapes in trial runs (matmulSparse against linearFloat, 0.8-1.2x on a shared
 *   machine; not a committed bench).
 */
export const SPARSE_CROSSOVER = { float32: 0.85, int8: 0.94, convFloat32: 0.7 };

export interface LinearChoice {
  name: string;
  kind: LinearKind;
  k: number;
  n: number;
  sparsity: number;
  /** Why this kernel: the measured sparsity against the crossover, or an override. */
  reason: string;
}

export interface KernelChoiceOptions {
  /** Per-layer kernel by layer (node) name; overrides the sparsity rule. */
  linearKinds?: Readonly<Record<string, LinearKind>>;
  /** Sparsity from which layers run sparse (default: SPARSE_CROSSOVER). */
  sparseThreshold?: number;
}

/** The crossover that applies to the layer, and the rule's name for the reason string. */
function ruleFor(layer: LinearLayer, options: KernelChoiceOptions): { threshold: number; rule: string } {
  if (options.sparseThreshold !== undefined) return { threshold: options.sparseThreshold, rule: 'sparseThreshold option' };
  if (isQuantizedLayer(layer)) return { threshold: SPARSE_CROSSOVER.int8, rule: 'int8 crossover' };
  if (layer.conv) return { threshold: SPARSE_CROSSOVER.convFloat32, rule: 'conv crossover (rows = pixels x batch)' };
  return { threshold: SPARSE_CROSSOVER.float32, rule: 'linear crossover' };
}

function thresholdFor(layer: LinearLayer, options: KernelChoiceOptions): number {
  return ruleFor(layer, options).threshold;
}

/** The engineWeights spec of each layer: its override, else 'auto' at the layer type's crossover. */
function layerSpec(layer: LinearLayer, options: KernelChoiceOptions): EngineLayer {
  const override = options.linearKinds?.[layer.name];
  if (override && (override === 'int8' || override === 'sparse-int8') !== isQuantizedLayer(layer)) {
    throw new RangeError(`layer "${layer.name}" has ${isQuantizedLayer(layer) ? 'int8' : 'float32'} weights; kernel '${override}' does not take them`);
  }
  return {
    kind: override ?? 'auto', k: layer.k, n: layer.n, weights: layer.weights, transposed: layer.transposed,
    ...(override ? {} : { sparseFrom: thresholdFor(layer, options) }),
    ...(layer.scales ? { scales: layer.scales } : {}),
    ...(layer.zeroPoints ? { zeroPoints: layer.zeroPoints } : {}),
  };
}

/** Packs every layer on the kernel its override or its measured sparsity calls for, and says which and why. */
export function packWeights(binding: NativeBinding, prepared: PreparedModel, options: KernelChoiceOptions = {}):
  { weights: EngineWeights; choices: LinearChoice[] } {
  const weights = binding.engineWeights({
    constants: prepared.constants.map(({ tensor }) => ({ type: ENGINE_DTYPES[tensor.dtype]!, data: tensor.data as never })),
    linears: prepared.layers.map((layer) => layerSpec(layer, options)),
  });
  const choices = weights.layers.map((packed, i): LinearChoice => {
    const layer = prepared.layers[i];
    const { threshold, rule } = ruleFor(layer, options);
    const sparse = packed.kind === 'sparse' || packed.kind === 'sparse-int8';
    const asymmetric = isQuantizedLayer(layer) && !sparse && packed.sparsity >= threshold;
    const reason = options.linearKinds?.[layer.name]
      ? 'override'
      : `sparsity ${(packed.sparsity * 100).toFixed(1)}% ${packed.sparsity >= threshold ? '>=' : '<'} ${(threshold * 100).toFixed(0)}% (${rule})` +
        (asymmetric ? ' (asymmetric weights run dense)' : '');
    return { name: layer.name, kind: packed.kind, k: packed.k, n: packed.n, sparsity: packed.sparsity, reason };
  });
  return { weights, choices };
}
