// What a GPTQ run reports: per layer, the weight and layer-output errors of round-to-nearest and of
// GPTQ on the calibration inputs, and their totals (the output error is what GPTQ minimizes).
import type { GptqLayerReport } from './nbits-weights';

export interface GptqReport {
  samples: number;
  /** True when no data was given and the statistics come from generated random inputs. */
  generated: boolean;
  /** Layers whose inputs the samples never reached: quantized round-to-nearest. */
  fallbackLayers: number;
  layers: GptqLayerReport[];
  /** Sums over layers of the mean squared errors. */
  total: { rtn: { weight: number; output: number }; gptq: { weight: number; output: number } };
  /** total.gptq.output / total.rtn.output (below 1: GPTQ's layer outputs are closer to float). */
  outputErrorRatio: number;
}

export function gptqSummary(layers: GptqLayerReport[], stats: { samples: number; generated: boolean; missing: number }): GptqReport {
  const sum = (pick: (l: GptqLayerReport) => number) => layers.reduce((t, l) => t + pick(l), 0);
  const total = {
    rtn: { weight: sum((l) => l.rtn.weight), output: sum((l) => l.rtn.output) },
    gptq: { weight: sum((l) => l.gptq.weight), output: sum((l) => l.gptq.output) },
  };
  return {
    samples: stats.samples,
    generated: stats.generated,
    fallbackLayers: stats.missing,
    layers,
    total,
    outputErrorRatio: total.rtn.output > 0 ? total.gptq.output / total.rtn.output : 1,
  };
}
