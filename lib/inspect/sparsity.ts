// Per-layer sparsity of MatMul/Gemm/Conv weights: the fraction of zeros, and whether the zeros form an
// N:M pattern along the reduction axis (what sparse kernels can pack).
import type { Model } from '../onnx/model';
import { ConstantIndex, isFloatType } from '../prune/constants';
import { weightedLayers, type WeightedLayer } from '../prune/layers';

export interface LayerSparsity {
  layer: string;
  op: string;
  weight: string;
  params: number;
  zeros: number;
  sparsity: number;
  /** The tightest N:M pattern every group of M weights along the reduction axis satisfies, if any. */
  pattern: '2:4' | '4:8' | null;
}

const PATTERNS = [{ name: '2:4', n: 2, m: 4 }, { name: '4:8', n: 4, m: 8 }] as const;

/** Whether every run of m weights along k (per output, per matrix) holds at most n non-zeros. */
function satisfiesNm(layer: WeightedLayer, zero: (i: number) => boolean, n: number, m: number): boolean {
  const { k, batch } = layer;
  if (k % m !== 0) return false;
  const outputs = layer.n;
  const index = layer.layout === 'kn'
    ? (b: number, r: number, c: number) => (b * k + r) * outputs + c
    : (_b: number, r: number, c: number) => c * k + r;
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < outputs; c++) {
      for (let r0 = 0; r0 < k; r0 += m) {
        let nonzero = 0;
        for (let r = r0; r < r0 + m; r++) if (!zero(index(b, r, c))) nonzero++;
        if (nonzero > n) return false;
      }
    }
  }
  return true;
}

export function layerSparsity(model: Model): LayerSparsity[] {
  const constants = new ConstantIndex(model);
  const seen = new Set<unknown>();
  const out: LayerSparsity[] = [];
  for (const layer of weightedLayers(model, constants)) {
    if (!isFloatType(layer.weight.dtype) || seen.has(layer.weight.tensor)) continue;
    seen.add(layer.weight.tensor);
    const values = constants.floats(layer.weight);
    const zero = (i: number): boolean => values[i] === 0;
    let zeros = 0;
    for (let i = 0; i < values.length; i++) if (values[i] === 0) zeros++;
    const pattern = zeros === 0 ? undefined : PATTERNS.find((p) => satisfiesNm(layer, zero, p.n, p.m));
    out.push({
      layer: layer.name,
      op: layer.op,
      weight: layer.weight.name,
      params: values.length,
      zeros,
      sparsity: values.length ? zeros / values.length : 0,
      pattern: pattern?.name ?? null,
    });
  }
  return out;
}
