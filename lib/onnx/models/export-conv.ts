// Convolutions as torch.onnx.export writes them for torchvision nets: every Conv with all five of
// dilations/group/kernel_shape/pads/strides, a Conv followed by BatchNorm either folded into one Conv
// with `onnx::Conv_*` weight and bias (eval-mode export) or kept as Conv + BatchNormalization
// (unfolded exports, paddle2onnx), and the hard-swish / hard-sigmoid activations per opset.
import { attr, type AttributeValue } from '../attributes';
import { BATCH_NORM_EPSILON, foldBatchNorm, randomBatchNorm, type BatchNormParams } from './batch-norm';
import { convWeightDims, type ConvShape } from './conv-geometry';
import type { ExportWriter } from './export-writer';
import { heWeights, smallBias } from './weights';

/** Where BatchNorm goes: into the conv weights (torch's eval export) or its own node after each conv. */
export type BatchNormMode = 'folded' | 'separate';

/** A torch module: its parameter path ("layer1.0.conv1") and the segment it adds to value names ("conv1"). */
export interface TorchModule {
  readonly param: string;
  readonly scope: string;
}

export const ROOT_MODULE: TorchModule = { param: '', scope: '' };

/** Child `name` of `parent`; a child of an nn.Sequential extends the parent's segment ("conv.0" -> "conv.0.1"). */
export function childModule(parent: TorchModule, name: string | number, ofSequential = false): TorchModule {
  return {
    param: parent.param === '' ? `${name}` : `${parent.param}.${name}`,
    scope: ofSequential ? `${parent.scope}.${name}` : `${name}`,
  };
}

export function convAttributes(shape: ConvShape): Record<string, AttributeValue> {
  const { kernel, stride = 1, pad = 0, dilation = 1, group = 1 } = shape;
  const perAxis = (value: number): number[] => kernel.map(() => value);
  return { dilations: perAxis(dilation), group, kernel_shape: [...kernel], pads: [...perAxis(pad), ...perAxis(pad)], strides: perAxis(stride) };
}

/** He-scaled random weights [outChannels, inChannels / group, ...kernel] for a conv of `shape`. */
export function drawConvWeights(shape: ConvShape, seed: number, gain: number): { dims: number[]; values: Float32Array } {
  const { dims, fanIn } = convWeightDims(shape);
  return { dims, values: heWeights(dims.reduce((a, b) => a * b, 1), fanIn, seed, gain) };
}

/** nn.Conv2d with a bias and no BatchNorm after it (squeeze-excite fc layers, heads): `param.weight`, `param.bias`. */
export function writeConv(w: ExportWriter, x: string, module: TorchModule, shape: ConvShape, weight: Float32Array, bias: Float32Array): string {
  const { dims } = convWeightDims(shape);
  const weightName = w.g.initializer(`${module.param}.weight`, weight, dims);
  const biasName = w.g.initializer(`${module.param}.bias`, bias, [shape.outChannels]);
  return w.scoped(module.scope, () => w.node('Conv', [x, weightName, biasName], convAttributes(shape)));
}

/** writeConv with He-scaled random weights and small biases. */
export function exportConv(w: ExportWriter, x: string, module: TorchModule, shape: ConvShape, seed: () => number, gain = 2): string {
  const weight = drawConvWeights(shape, seed(), gain).values;
  return writeConv(w, x, module, shape, weight, smallBias(shape.outChannels, seed()));
}

export interface ConvBnOptions {
  mode: BatchNormMode;
  /** He gain of the raw conv weights: 2 when the conv reads a ReLU's output, 1 when it reads linear values. */
  gain?: number;
  /** Multiplies the BatchNorm scale; below 1 on a residual branch keeps the sum from growing block by block. */
  bnGain?: number;
}

/**
 * A bias-free conv `conv` followed by BatchNorm `bn`. The raw weights are drawn the same way in both
 * modes, so a 'folded' model and a 'separate' one built with the same seed compute the same function.
 */
export function exportConvBn(w: ExportWriter, x: string, conv: TorchModule, bn: TorchModule, shape: ConvShape, seed: () => number, options: ConvBnOptions): string {
  const raw = drawConvWeights(shape, seed(), options.gain ?? 2).values;
  return writeConvBn(w, x, conv, bn, shape, raw, randomBatchNorm(shape.outChannels, seed(), options.bnGain ?? 1), options.mode);
}

/** Conv `conv` with raw weights `weight` then BatchNorm `bn` with `params`: folded into one Conv, or two nodes. */
export function writeConvBn(w: ExportWriter, x: string, conv: TorchModule, bn: TorchModule, shape: ConvShape, weight: Float32Array, params: BatchNormParams, mode: BatchNormMode): string {
  const { dims } = convWeightDims(shape);
  const channels = [shape.outChannels];
  if (mode === 'folded') {
    const folded = foldBatchNorm(weight, params);
    const weightName = w.g.initializer(w.unscopedName('Conv'), folded.weight, dims);
    const bias = w.g.initializer(w.unscopedName('Conv'), folded.bias, channels);
    return w.scoped(conv.scope, () => w.node('Conv', [x, weightName, bias], convAttributes(shape)));
  }
  const weightName = w.g.initializer(`${conv.param}.weight`, weight, dims);
  const y = w.scoped(conv.scope, () => w.node('Conv', [x, weightName], convAttributes(shape)));
  const inputs = [params.scale, params.shift, params.mean, params.variance].map((values, i) =>
    w.g.initializer(`${bn.param}.${['weight', 'bias', 'running_mean', 'running_var'][i]}`, values, channels));
  // torch writes momentum as 1 - its own momentum (0.1), and training_mode from opset 14, where it arrived.
  const attrs: Record<string, AttributeValue> = { epsilon: attr.float(BATCH_NORM_EPSILON), momentum: attr.float(0.9) };
  if (w.opset >= 14) attrs.training_mode = 0;
  return w.scoped(bn.scope, () => w.node('BatchNormalization', [y, ...inputs], attrs));
}

/** nn.Hardsigmoid: HardSigmoid with torch's alpha 1/6 (beta stays at ONNX's default 0.5). */
export function exportHardSigmoid(w: ExportWriter, x: string): string {
  return w.node('HardSigmoid', [x], { alpha: attr.float(1 / 6) });
}

/** nn.Hardswish: the HardSwish op from opset 14, before it x * HardSigmoid(x) as torch decomposes it. */
export function exportHardSwish(w: ExportWriter, x: string): string {
  if (w.opset >= 14) return w.node('HardSwish', [x]);
  return w.node('Mul', [x, exportHardSigmoid(w, x)]);
}
