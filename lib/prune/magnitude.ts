// Magnitude pruning (unstructured and N:M): zero the smallest weights of MatMul/Gemm/Conv layers. Masks come
// from the addon's kernels.pruneMask on each weight's k x n view, so the zeros line up with the groups the
// sparse kernels pack (N:M groups run along the reduction axis).
import { kernels } from '../kernels';
import type { TypedArray } from '../onnx/dtype';
import type { Model } from '../onnx/model';
import type { TensorProto } from '../onnx/gen/onnx_pb';
import { elementCount } from '../onnx/tensor';
import { isFloatType, replaceConstant, type ConstantIndex } from './constants';
import { layerNames, weightedLayers, type WeightedLayer } from './layers';
import type { LayerSelector, ResolvedOptions } from './options';
import type { MagnitudeLayerReport, SkipKind, SkippedLayer } from './report';
import { transpose2d } from './tensor-ops';
import { countAtMost, kthSmallestMagnitude } from './select';

interface Target {
  layer: WeightedLayer;
  names: string[];
  /** The weight as `batch` row-major k x n float32 matrices. */
  matrices: Float32Array;
  sparsity: number;
  override: boolean;
}

/** The weight as batch x k x n float32, whatever its layout and float type. */
function matrixView(layer: WeightedLayer, constants: ConstantIndex): Float32Array {
  const values = constants.floats(layer.weight);
  const f32 = values instanceof Float32Array ? values : Float32Array.from(values);
  return layer.layout === 'kn' ? f32 : transpose2d(f32, layer.n, layer.k);
}

/** The weight with the masked-out elements zeroed, in its own dtype and layout. */
function applyMask(layer: WeightedLayer, values: TypedArray, mask: Uint8Array): TypedArray {
  const out = values.slice();
  const { k, n } = layer;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] !== 0) continue;
    if (layer.layout === 'kn') out[i] = 0;
    else out[(i % n) * k + Math.floor(i / n)] = 0;
  }
  return out;
}

function zeroFraction(values: TypedArray): number {
  let zeros = 0;
  for (let i = 0; i < values.length; i++) if (values[i] == 0) zeros++;
  return values.length ? zeros / values.length : 0;
}

/**
 * Global scope: one magnitude cut over every layer not given its own sparsity. Each layer's share is the count
 * of its weights below the cut, ties at the cut going to earlier layers, so the total is exact.
 */
function globalSparsities(targets: Target[], sparsity: number): void {
  const pooled = targets.filter((t) => !t.override);
  const total = pooled.reduce((sum, t) => sum + t.matrices.length, 0);
  const toPrune = Math.round(sparsity * total);
  if (toPrune === 0) {
    pooled.forEach((t) => (t.sparsity = 0));
    return;
  }
  const cut = kthSmallestMagnitude(pooled.map((t) => t.matrices), toPrune - 1);
  const counts = pooled.map((t) => countAtMost(t.matrices, cut));
  let remaining = toPrune - counts.reduce((sum, c) => sum + c.below, 0);
  pooled.forEach((t, i) => {
    const ties = Math.min(counts[i].equal, remaining);
    remaining -= ties;
    t.sparsity = (counts[i].below + ties) / t.matrices.length;
  });
}

export function pruneMagnitude(model: Model, constants: ConstantIndex, options: ResolvedOptions, selector: LayerSelector): { layers: MagnitudeLayerReport[]; skipped: SkippedLayer[] } {
  const skipped: SkippedLayer[] = [];
  const byWeight = new Map<TensorProto, WeightedLayer[]>();
  for (const layer of weightedLayers(model, constants)) {
    const list = byWeight.get(layer.weight.tensor) ?? [];
    list.push(layer);
    byWeight.set(layer.weight.tensor, list);
  }
  const targets: Target[] = [];
  for (const sharing of byWeight.values()) {
    const layer = sharing[0];
    const names = sharing.flatMap(layerNames);
    const label = [...new Set(sharing.map((l) => l.name))];
    const skip = (kind: SkipKind, reason: string): void => void skipped.push({ layers: label, kind, reason });
    const params = elementCount(layer.weight.dims);
    const excluded = selector.excluded(names);
    const { sparsity, override } = selector.sparsityOf(names);
    if (excluded) { skip('excluded', 'excluded'); continue; }
    if (!isFloatType(layer.weight.dtype)) { skip('unsupported', `weights are ${layer.weight.dtype}`); continue; }
    if (sparsity === 0) { skip('dense', 'sparsity 0'); continue; }
    if (params < options.minParams) { skip('too-small', `too small (${params} weights < ${options.minParams})`); continue; }
    if (options.nm && layer.k % options.nm.m !== 0) { skip('unsupported', `reduction size ${layer.k} is not a multiple of ${options.nm.m}`); continue; }
    const matrices = matrixView(layer, constants);
    if (matrices.some(Number.isNaN)) { skip('unsupported', 'weights contain NaN'); continue; }
    targets.push({ layer, names: label, matrices, sparsity, override });
  }
  if (options.scope === 'global') globalSparsities(targets, options.sparsity);

  const layers: MagnitudeLayerReport[] = [];
  for (const t of targets) {
    const { layer } = t;
    const size = layer.k * layer.n;
    const mask = new Uint8Array(t.matrices.length);
    for (let b = 0; b < layer.batch; b++) {
      const matrix = t.matrices.subarray(b * size, (b + 1) * size);
      const opts = options.nm ? { pattern: options.pattern as '2:4' | '4:8' } : { pattern: 'unstructured' as const, sparsity: t.sparsity };
      mask.set(kernels.pruneMask(matrix, layer.k, layer.n, opts), b * size);
    }
    const pruned = applyMask(layer, constants.values(layer.weight), mask);
    replaceConstant(layer.weight, pruned, layer.weight.dims);
    layers.push({
      layer: t.names.join(', '),
      op: layer.op,
      weight: layer.weight.name,
      shape: [...layer.weight.dims],
      params: pruned.length,
      targetSparsity: t.sparsity,
      sparsity: zeroFraction(pruned),
    });
  }
  return { layers, skipped };
}
