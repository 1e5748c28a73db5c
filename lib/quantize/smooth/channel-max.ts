// max |X_j| per channel (the last axis) of activations, over every calibration sample and token:
// the activation side of SmoothQuant's scales.
import type { Feeds } from '../../engine/tensor';
import type { Model } from '../../onnx/model';
import { makeBatches } from '../calibration/batches';
import { sessionExposing } from '../calibrate';
import type { ResolvedOptions } from '../options';

export interface ChannelTarget {
  name: string;
  channels: number;
}

/** Activation name -> max |x| per channel; an activation the samples never reach is absent. */
export async function channelAbsMax(model: Model, targets: readonly ChannelTarget[], samples: readonly Feeds[], o: ResolvedOptions): Promise<Map<string, Float64Array>> {
  const { session, exposed } = await sessionExposing(model, targets.map((t) => ({ name: t.name, graphPath: 'main' })), o, 'smooth-quant');
  try {
    const maxima = new Map<string, Float64Array>();
    const outputNames = [...new Set([...exposed.outputs.values()].flat())];
    const batches = makeBatches([...samples], session.inputs, o.calibrationBatch);
    for (let b = 0; b < batches.length; b++) {
      const results = outputNames.length > 0 ? await session.run(batches[b], outputNames) : {};
      for (const t of targets) {
        for (const output of exposed.outputs.get(t.name) ?? []) {
          const tensor = results[output];
          if (!tensor || !(tensor.data instanceof Float32Array) || tensor.data.length === 0 || tensor.dims[tensor.dims.length - 1] !== t.channels) continue;
          let max = maxima.get(t.name);
          if (!max) maxima.set(t.name, (max = new Float64Array(t.channels)));
          const data = tensor.data;
          for (let i = 0; i < data.length; i++) {
            const j = i % t.channels;
            const a = Math.abs(data[i]);
            if (a > max[j]) max[j] = a;
          }
        }
      }
      o.onProgress?.('smooth-quant statistics', b + 1, batches.length);
    }
    return maxima;
  } finally {
    await session.dispose();
  }
}
