// One post-norm BERT encoder layer as torch.onnx.export writes it: self-attention with the additive
// mask, residual, LayerNorm, Erf-GELU feed-forward, residual, LayerNorm.
import { exportLayerNorm, exportLinear, exportViewKeepingTwoDims } from './export-ops';
import type { ExportWriter } from './export-writer';
import { erfGelu } from './gelu';

export interface BertLayerSizes {
  hidden: number;
  heads: number;
  ffn: number;
}

/**
 * Layer `index` reading hidden states `x` [batch, sequence, hidden] and the additive mask
 * [batch, 1, 1, sequence]; `output` names its result.
 */
export function exportBertLayer(w: ExportWriter, x: string, mask: string, index: number, sizes: BertLayerSizes, seed: () => number, output?: string): string {
  const { hidden, heads, ffn } = sizes;
  const headDim = hidden / heads;
  const param = `layers.${index}`;
  return w.scoped(param, () => {
    const perHead = (name: string): string =>
      exportViewKeepingTwoDims(w, exportLinear(w, x, `${param}.${name}`, hidden, hidden, seed), [heads, headDim]);
    const toHeads = (v: string): string => w.node('Transpose', [v], { perm: [0, 2, 1, 3] });
    // The exporter's order: q is transposed at once, k only after v, straight to [b, heads, d, s].
    const q = toHeads(perHead('q'));
    const k = perHead('k');
    const v = toHeads(perHead('v'));
    const kT = w.node('Transpose', [k], { perm: [0, 2, 3, 1] });
    const scaled = w.node('Div', [w.node('MatMul', [q, kT]), w.float(Math.sqrt(headDim))]);
    // Softmax-13 takes one axis; before it the exporter names the last axis by number.
    const probs = w.node('Softmax', [w.node('Add', [scaled, mask])], { axis: w.opset >= 13 ? -1 : 3 });
    const context = toHeads(w.node('MatMul', [probs, v]));
    const merged = exportViewKeepingTwoDims(w, context, [-1]);
    const attended = w.node('Add', [x, exportLinear(w, merged, `${param}.o`, hidden, hidden, seed)]);
    const x1 = exportLayerNorm(w, attended, `${param}.ln1`, hidden, seed);
    const up = exportLinear(w, x1, `${param}.f1`, hidden, ffn, seed, 2);
    const gelu = erfGelu((op, inputs) => w.node(op, inputs), (value) => w.float(value), up);
    const ffnOut = w.node('Add', [x1, exportLinear(w, gelu, `${param}.f2`, ffn, hidden, seed)]);
    return exportLayerNorm(w, ffnOut, `${param}.ln2`, hidden, seed, output);
  });
}
