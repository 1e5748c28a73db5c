// Which kernel each linear layer runs on, and the engineWeights call that packs them.
import type { EngineLayer, EngineWeights, NativeBinding } from '../../../binding';
import type { LinearLayer } from './linear-layers';
import { isQuantizedLayer, layerSparsity, rowMajorWeights } from './linear-layers';
import type { PreparedModel } from './prepare';
import { ENGINE_DTYPES } from './tensor-data';

export type LinearKind = 'dense' | 'sparse' | 'int8' | 'sparse-int8';

/**
 * Sparsity from which the sparse kernels beat the dense ones (bench/results/sparse.md, 768 x 3072,
 * m = 1-128): float32 sparse passes dense between 80% and 90% (90%: 1.0-2.8x; 80%: 0.6-1.8x);
 * sparse int8 passes dense int8 only near 95% (90%: 0.86-1.07x; 95%: 0.85-1.48x).
 */
export const SPARSE_CROSSOVER = { float32: 0.85, int8: 0.94 };

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

export function chooseKernels(layers: readonly LinearLayer[], options: KernelChoiceOptions = {}): LinearChoice[] {
  return layers.map((layer) => {
    const quantized = isQuantizedLayer(layer);
    const sparsity = layerSparsity(layer);
    const override = options.linearKinds?.[layer.name];
    if (override) {
      if ((override === 'int8' || override === 'sparse-int8') !== quantized) {
        throw new RangeError(`layer "${layer.name}" has ${quantized ? 'int8' : 'float32'} weights; kernel '${override}' does not take them`);
      }
      return { name: layer.name, kind: override, k: layer.k, n: layer.n, sparsity, reason: 'override' };
    }
    const threshold = options.sparseThreshold ?? (quantized ? SPARSE_CROSSOVER.int8 : SPARSE_CROSSOVER.float32);
    const symmetric = !layer.zeroPoints || layer.zeroPoints.every((z) => z === 0);
    const sparse = sparsity >= threshold && (!quantized || symmetric);
    const kind: LinearKind = quantized ? (sparse ? 'sparse-int8' : 'int8') : sparse ? 'sparse' : 'dense';
    const reason = `sparsity ${(sparsity * 100).toFixed(1)}% ${sparse ? '>=' : '<'} ${(threshold * 100).toFixed(0)}%` +
      (quantized && sparsity >= threshold && !symmetric ? ' (asymmetric weights run dense)' : '');
    return { name: layer.name, kind, k: layer.k, n: layer.n, sparsity, reason };
  });
}

export function packWeights(binding: NativeBinding, prepared: PreparedModel, choices: readonly LinearChoice[]): EngineWeights {
  return binding.engineWeights({
    constants: prepared.constants.map(({ tensor }) => ({ type: ENGINE_DTYPES[tensor.dtype]!, data: tensor.data as never })),
    linears: prepared.layers.map((layer, i): EngineLayer => {
      const kind = choices[i].kind;
      const dense = kind === 'dense';
      return {
        kind, k: layer.k, n: layer.n,
        weights: dense ? layer.weights : rowMajorWeights(layer),
        transposed: dense && layer.transposed,
        ...(layer.scales ? { scales: layer.scales } : {}),
        ...(layer.zeroPoints ? { zeroPoints: layer.zeroPoints } : {}),
      };
    }),
  });
}
