// The recipes auto mode tries, in a fixed order (ties in latency go to the earlier one):
// static per-channel int8 with minmax, percentile and entropy ranges; dynamic int8 when the graph is
// linear-heavy (more MatMul/Gemm than Conv: onnxruntime's dynamic ConvInteger is slower than float
// Conv); the most accurate static recipe with the most sensitive layers kept in float; weight-only
// int8, and int4 (MatMulNBits) when there are linear layers. Graphs with layer norms (transformers) also
// try static minmax after SmoothQuant.
import type { Model } from '../../onnx/model';
import type { CalibrationMethod, QuantizeOptions } from '../options';

export interface Recipe {
  label: string;
  options: Partial<QuantizeOptions> & Pick<QuantizeOptions, 'mode'>;
}

export interface GraphMix {
  conv: number;
  linear: number;
  recurrent: number;
  /** LayerNormalization nodes, or the ReduceMean a decomposed one starts with: where SmoothQuant has something to fold into. */
  norms: number;
}

export function graphMix(model: Model): GraphMix {
  const mix = { conv: 0, linear: 0, recurrent: 0, norms: 0 };
  for (const { node } of model.nodes()) {
    if (node.opType === 'Conv') mix.conv++;
    else if (node.opType === 'MatMul' || node.opType === 'Gemm') mix.linear++;
    else if (node.opType === 'LSTM') mix.recurrent++;
    else if (node.opType === 'LayerNormalization' || node.opType === 'ReduceMean') mix.norms++;
  }
  return mix;
}

export const isLinearHeavy = (mix: GraphMix): boolean => mix.linear + mix.recurrent > mix.conv;

export const STATIC_METHODS: CalibrationMethod[] = ['minmax', 'percentile', 'entropy'];

/** SmoothQuant's α when the caller gave none (the paper's default). */
export const DEFAULT_SMOOTH_QUANT_ALPHA = 0.5;

export function staticRecipe(method: CalibrationMethod, exclude: string[] = [], smoothQuant?: number): Recipe {
  const smooth = smoothQuant === undefined ? '' : ` + SmoothQuant α=${smoothQuant}`;
  const kept = exclude.length ? `, ${exclude.length} most sensitive layer(s) float` : '';
  return {
    label: `static int8 per-channel ${method}${smooth}${kept}`,
    options: { mode: 'static', method, perChannel: true, ...(smoothQuant === undefined ? {} : { smoothQuant }), ...(exclude.length ? { exclude } : {}) },
  };
}

/** Recipes that need no sensitivity ranking, in trial order; `smoothQuant` (the caller's α) adds the SmoothQuant recipe to any graph. */
export function baseRecipes(mix: GraphMix, smoothQuant?: number): Recipe[] {
  const recipes = STATIC_METHODS.map((m) => staticRecipe(m));
  if (smoothQuant !== undefined || (mix.norms > 0 && mix.linear > 0)) recipes.push(staticRecipe('minmax', [], smoothQuant ?? DEFAULT_SMOOTH_QUANT_ALPHA));
  if (isLinearHeavy(mix)) recipes.push({ label: 'dynamic int8 per-channel', options: { mode: 'dynamic', perChannel: true } });
  recipes.push({ label: 'weight-only int8', options: { mode: 'weight-only', bits: 8 } });
  if (mix.linear > 0) recipes.push({ label: 'weight-only int4 (block 32)', options: { mode: 'weight-only', bits: 4, blockSize: 32 } });
  return recipes;
}

/** How many of the most sensitive layers to keep in float: about a tenth, at least one, never all. */
export function sensitiveCounts(layers: number): number[] {
  if (layers < 2) return [];
  const tenth = Math.max(1, Math.ceil(layers / 10));
  return [...new Set([1, tenth])].filter((k) => k < layers);
}
