// Layers written together with their values on a probe batch of unit-variance images: each conv's
// BatchNorm gets the running statistics of what the conv produces there, and each layer without a
// BatchNorm gets its weights scaled to a chosen output scale, as data-dependent initialisation does.
// Every layer then works at the scale it was meant for, whatever the seed, widths or input size.
import { randomNormal } from '../random';
import { BATCH_NORM_EPSILON, measuredBatchNorm } from './batch-norm';
import type { ConvShape } from './conv-geometry';
import { drawConvWeights, exportHardSigmoid, exportHardSwish, writeConv, writeConvBn, type BatchNormMode, type TorchModule } from './export-conv';
import { writeGemm } from './export-ops';
import type { ExportWriter } from './export-writer';
import {
  hardSigmoid, hardSwish, probeAdd, probeAffine, probeConv, probeGlobalAverage, probeMap, probeRms, probeScaleChannels, probeStatistics, relu, type Probe,
} from './probe';
import { smallBias } from './weights';

/** A value of the graph and its values on the probe batch. */
export interface Probed {
  name: string;
  probe: Probe;
}

/** `count` unit-variance images [count, channels, ...size], deterministic in `seed`. */
export function probeImages(count: number, channels: number, size: readonly number[], seed: number): Probe {
  const length = count * channels * size.reduce((a, b) => a * b, 1);
  return { data: randomNormal(length, seed), batch: count, channels, size };
}

export class ProbedLayers {
  constructor(readonly w: ExportWriter, readonly seed: () => number, readonly mode: BatchNormMode) {}

  /** Conv then BatchNorm, whose output per channel has a std near `std` on the probe. */
  convBn(x: Probed, conv: TorchModule, bn: TorchModule, shape: ConvShape, std: number): Probed {
    const weight = drawConvWeights(shape, this.seed(), 1).values;
    const y = probeConv(x.probe, weight, shape);
    const { mean, variance } = probeStatistics(y);
    const params = measuredBatchNorm(mean, variance, this.seed(), std);
    const factor = params.scale.map((s) => s / Math.sqrt(variance + BATCH_NORM_EPSILON));
    const shift = params.shift.map((b, c) => b - mean[c] * factor[c]);
    return { name: writeConvBn(this.w, x.name, conv, bn, shape, weight, params, this.mode), probe: probeAffine(y, factor, shift) };
  }

  /** Conv with a bias and no BatchNorm (squeeze-excite), its weights scaled to output rms `rms` on the probe. */
  conv(x: Probed, module: TorchModule, shape: ConvShape, rms: number): Probed {
    const weight = drawConvWeights(shape, this.seed(), 1).values;
    const bias = smallBias(shape.outChannels, this.seed());
    const y = this.scaleTo(weight, probeConv(x.probe, weight, shape), rms);
    return { name: writeConv(this.w, x.name, module, shape, weight, bias), probe: probeAffine(y, new Float32Array(bias.length).fill(1), bias) };
  }

  /** A Gemm head layer `param` (transB) reading flattened [batch, fanIn], scaled to output rms `rms` on the probe. */
  gemm(x: Probed, param: string, fanOut: number, rms: number, output?: string): Probed {
    const fanIn = x.probe.channels;
    const shape = { inChannels: fanIn, outChannels: fanOut, kernel: [1, 1] };
    const weight = drawConvWeights(shape, this.seed(), 1).values;
    const bias = smallBias(fanOut, this.seed());
    // On a [batch, fanIn, 1, 1] probe, a Gemm with transB is a 1x1 conv with the same weights.
    const y = this.scaleTo(weight, probeConv(x.probe, weight, shape), rms);
    return { name: writeGemm(this.w, x.name, param, weight, bias, output), probe: probeAffine(y, new Float32Array(fanOut).fill(1), bias) };
  }

  relu(x: Probed): Probed {
    return { name: this.w.node('Relu', [x.name]), probe: probeMap(x.probe, relu) };
  }

  hardSwish(x: Probed): Probed {
    return { name: exportHardSwish(this.w, x.name), probe: probeMap(x.probe, hardSwish) };
  }

  hardSigmoid(x: Probed): Probed {
    return { name: exportHardSigmoid(this.w, x.name), probe: probeMap(x.probe, hardSigmoid) };
  }

  globalAveragePool(x: Probed): Probed {
    return { name: this.w.node('GlobalAveragePool', [x.name]), probe: probeGlobalAverage(x.probe) };
  }

  /** Flatten to [batch, channels] after a global pool; the probe keeps its [batch, channels, 1, 1] layout. */
  flatten(x: Probed): Probed {
    return { name: this.w.node('Flatten', [x.name], { axis: 1 }), probe: x.probe };
  }

  /** Mul(gate, x) with a [batch, channels, 1, 1] gate. */
  gate(gate: Probed, x: Probed): Probed {
    return { name: this.w.node('Mul', [gate.name, x.name]), probe: probeScaleChannels(x.probe, gate.probe) };
  }

  add(a: Probed, b: Probed): Probed {
    return { name: this.w.node('Add', [a.name, b.name]), probe: probeAdd(a.probe, b.probe) };
  }

  /**
   * Scales `weight` in place, and the output `y` it gave, so that y has rms `rms`; an all-zero y (a
   * squeeze-excite fc reading a Relu that the few probe values left all zero) keeps the He scale.
   */
  private scaleTo(weight: Float32Array, y: Probe, rms: number): Probe {
    const current = probeRms(y);
    const factor = current > 0 ? rms / current : 1;
    for (let i = 0; i < weight.length; i++) weight[i] *= factor;
    return probeMap(y, (v) => v * factor);
  }
}
