// Layers in the form torch.onnx.export writes them: Linear as MatMul with a transposed-weight
// initializer then Add(bias, product), LayerNorm fused from opset 17 and decomposed before it, and
// the Shape -> Gather -> Unsqueeze -> Concat chain that builds every dynamic Reshape target.
import { attr } from '../attributes';
import type { ExportWriter } from './export-writer';
import { heWeights, layerNormScale, layerNormShift, smallBias } from './weights';

/** BERT's LayerNorm epsilon (1e-12), which the exporter keeps. */
const LAYER_NORM_EPSILON = 1e-12;

const lastSegment = (param: string): string => param.slice(param.lastIndexOf('.') + 1);

/**
 * nn.Linear(fanIn, fanOut) named `param` (e.g. "layers.0.q"): MatMul by an `onnx::MatMul_*` weight
 * [fanIn, fanOut], then Add(param.bias, product), scoped under the last segment of `param`.
 */
export function exportLinear(w: ExportWriter, x: string, param: string, fanIn: number, fanOut: number, seed: () => number, gain = 1): string {
  const weight = w.g.initializer(w.unscopedName('MatMul'), heWeights(fanIn * fanOut, fanIn, seed(), gain), [fanIn, fanOut]);
  const bias = w.g.initializer(`${param}.bias`, smallBias(fanOut, seed()), [fanOut]);
  return w.scoped(lastSegment(param), () => w.node('Add', [bias, w.node('MatMul', [x, weight])]));
}

/** nn.Linear as a head writes it: Gemm(x, param.weight [fanOut, fanIn], param.bias) with transB=1. */
export function exportGemm(w: ExportWriter, x: string, param: string, fanIn: number, fanOut: number, seed: () => number, gain = 1, output?: string): string {
  const weight = heWeights(fanOut * fanIn, fanIn, seed(), gain);
  return writeGemm(w, x, param, weight, smallBias(fanOut, seed()), output);
}

/** exportGemm with given weights [fanOut, fanIn] and bias [fanOut]. */
export function writeGemm(w: ExportWriter, x: string, param: string, weight: Float32Array, bias: Float32Array, output?: string): string {
  const fanOut = bias.length;
  const weightName = w.g.initializer(`${param}.weight`, weight, [fanOut, weight.length / fanOut]);
  const biasName = w.g.initializer(`${param}.bias`, bias, [fanOut]);
  return w.scoped(param, () => w.node('Gemm', [x, weightName, biasName], { alpha: attr.float(1), beta: attr.float(1), transB: 1 }, output));
}

/** nn.LayerNorm(width) named `param` over the last axis; `output` names its result. */
export function exportLayerNorm(w: ExportWriter, x: string, param: string, width: number, seed: () => number, output?: string): string {
  const scale = w.g.initializer(`${param}.weight`, layerNormScale(width, seed()), [width]);
  const shift = w.g.initializer(`${param}.bias`, layerNormShift(width, seed()), [width]);
  return w.scoped(lastSegment(param), () => {
    if (w.opset >= 17) return w.node('LayerNormalization', [x, scale, shift], { axis: -1, epsilon: LAYER_NORM_EPSILON }, output);
    const mean = (v: string) => w.node('ReduceMean', [v], { axes: [-1] });
    const centred = w.node('Sub', [x, mean(x)]);
    const variance = mean(w.node('Pow', [centred, w.float(2)]));
    const normalized = w.node('Div', [centred, w.node('Sqrt', [w.node('Add', [variance, w.float(LAYER_NORM_EPSILON)])])]);
    return w.node('Add', [w.node('Mul', [normalized, scale]), shift], {}, output);
  });
}

/**
 * x.view(x.size(0), x.size(1), ...tail) as traced: each leading size read through Shape and Gather,
 * unsqueezed, concatenated with one Constant per trailing size, then Reshape.
 */
export function exportViewKeepingTwoDims(w: ExportWriter, x: string, tail: readonly number[]): string {
  const sizes = [0, 1].map((axis) => w.node('Gather', [w.node('Shape', [x]), w.int64(axis)], { axis: 0 }));
  const leading = sizes.map((size) => w.unsqueeze(size, 0, true));
  const shape = w.node('Concat', [...leading, ...tail.map((size) => w.int64(size, true))], { axis: 0 });
  // allowzero arrived with Reshape-14; the exporter spells out its default from then on.
  return w.node('Reshape', [x, shape], w.opset >= 14 ? { allowzero: 0 } : {});
}
