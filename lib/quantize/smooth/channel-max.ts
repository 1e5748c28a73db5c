// max |X_j| per channel (the last axis, or axis 1 for convs) of activations, over every calibration sample and token:
// the activation side of SmoothQuant's scales.
import type { Feeds } from '../../engine/tensor';
import type { Model } from '../../onnx/model';
import { makeBatches } from '../calibration/batches';
import { sessionExposing } from '../calibrate';
import type { ResolvedOptions } from '../options';

export interface ChannelTarget {
  name: string;
  channels: number;
  /** The axis holding the channels: the last (linear layers) or 1 (convs, NCHW). */
  axis: 'last' | 1;
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
          if (!tensor || !(tensor.data instanceof Float32Array) || tensor.data.length === 0) continue;
          if (tensor.dims[t.axis === 'last' ? tensor.dims.length - 1 : 1] !== t.channels) continue;
          // Elements per step of the channel index: 1 on the last axis, the spatial size on axis 1.
          const inner = t.axis === 'last' ? 1 : tensor.data.length / tensor.dims[0] / t.channels;
          let max = maxima.get(t.name);
          if (!max) maxima.set(t.name, (max = new Float64Array(t.channels)));
          const data = tensor.data;
          for (let i = 0; i < data.length; i++) {
            const j = Math.floor(i / inner) % t.channels;
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
