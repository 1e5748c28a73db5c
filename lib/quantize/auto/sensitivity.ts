// Per-layer sensitivity: quantize one layer at a time with the base recipe and measure how far the
// model's outputs move from float (1 - worst cosine). The ranking decides which layers a
// "keep the most sensitive in float" recipe excludes.
import type { Feeds } from '../../engine/tensor';
import type { Model } from '../../onnx/model';
import { serializeModel } from '../../onnx/save';
import type { QuantizeOptions } from '../options';
import type { NodeOutcome } from '../selection';
import type { Scorer } from './scorer';

export interface LayerSensitivity {
  node: string;
  opType: string;
  /** Worst output cosine against float with only this layer quantized. */
  cosine: number;
}

type QuantizeFn = (model: Model, options: QuantizeOptions) => Promise<{ model: Model; report: { quantized: NodeOutcome[] } }>;

/** Most sensitive first (lowest cosine); ties keep graph order. */
export async function layerSensitivity(quantize: QuantizeFn, source: Model, base: QuantizeOptions, layers: NodeOutcome[],
  calibration: Feeds[], scorer: Scorer, onLayer?: (done: number, total: number) => void): Promise<LayerSensitivity[]> {
  const out: LayerSensitivity[] = [];
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i];
    const { model } = await quantize(source, { ...base, nodes: [layer.node], calibration, verify: false });
    const { cosine } = await scorer.score(serializeModel(model));
    out.push({ node: layer.node, opType: layer.opType, cosine });
    onLayer?.(i + 1, layers.length);
  }
  return out.map((s, i) => ({ s, i })).sort((a, b) => a.s.cosine - b.s.cosine || a.i - b.i).map(({ s }) => s);
}
