// Convolutions as torch.onnx.export writes them for torchvision nets: every Conv with all five of
// dilations/group/kernel_shape/pads/strides, a Conv followed by BatchNorm either folded into one Conv
// with `onnx::Conv_*` weight and bias (eval-mode export) or kept as Conv + BatchNormalization
// (unfolded exports, paddle2onnx), and the hard-swish / hard-sigmoid activations per opset.
import { attr, type AttributeValue } from '../attributes';
import { BATCH_NORM_EPSILON, foldBatchNorm, randomBatchNorm, type BatchNormParams } from './batch-norm';
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

/** A convolution's geometry: one kernel size per spatial axis; stride, pad and dilation alike on every axis. */
export interface ConvShape {
  inChannels: number;
  outChannels: number;
  kernel: readonly number[];
  stride?: number;
  pad?: number;
  dilation?: number;
  group?: number;
  /**
   * The input's spatial size. With it, He scaling counts only the taps that read the input, not its
   * zero padding, so small inputs (a 5x5 kernel on a 1x2 map) keep unit scale instead of shrinking.
   */
  input?: readonly number[];
}

/** Output length of a convolution or pooling window sliding over `size` (floor mode). */
export function slidingOutputSize(size: number, kernel: number, stride = 1, pad = 0, dilation = 1): number {
  return Math.floor((size + 2 * pad - dilation * (kernel - 1) - 1) / stride) + 1;
}

/** The spatial size a conv of `shape` writes from its `input` size. */
export function convOutputSize(shape: ConvShape & { input: readonly number[] }): number[] {
  const { stride = 1, pad = 0, dilation = 1 } = shape;
  return shape.input.map((size, axis) => slidingOutputSize(size, shape.kernel[axis], stride, pad, dilation));
}

/** Taps of a kernel per output position, on average, that land inside an input of `size`. */
function tapsInside(size: number, kernel: number, stride: number, pad: number, dilation: number): number {
  const outputs = slidingOutputSize(size, kernel, stride, pad, dilation);
  let inside = 0;
  for (let o = 0; o < outputs; o++) {
    for (let t = 0; t < kernel; t++) {
      const at = o * stride - pad + t * dilation;
      if (at >= 0 && at < size) inside++;
    }
  }
  return inside / outputs;
}

export function convAttributes(shape: ConvShape): Record<string, AttributeValue> {
  const { kernel, stride = 1, pad = 0, dilation = 1, group = 1 } = shape;
  const perAxis = (value: number): number[] => kernel.map(() => value);
  return { dilations: perAxis(dilation), group, kernel_shape: [...kernel], pads: [...perAxis(pad), ...perAxis(pad)], strides: perAxis(stride) };
}

function weightDims(shape: ConvShape): { dims: number[]; fanIn: number } {
  const groupChannels = shape.inChannels / (shape.group ?? 1);
  if (!Number.isInteger(groupChannels) || shape.outChannels % (shape.group ?? 1) !== 0) {
    throw new RangeError(`group ${shape.group} does not divide ${shape.inChannels} input and ${shape.outChannels} output channels`);
  }
  const { kernel, input, stride = 1, pad = 0, dilation = 1 } = shape;
  const taps = kernel.reduce((product, k, axis) => product * (input ? tapsInside(input[axis], k, stride, pad, dilation) : k), 1);
  return { dims: [shape.outChannels, groupChannels, ...kernel], fanIn: groupChannels * taps };
}

/** He-scaled random weights [outChannels, inChannels / group, ...kernel] for a conv of `shape`. */
export function drawConvWeights(shape: ConvShape, seed: number, gain: number): { dims: number[]; values: Float32Array } {
  const { dims, fanIn } = weightDims(shape);
  return { dims, values: heWeights(dims.reduce((a, b) => a * b, 1), fanIn, seed, gain) };
}

/** nn.Conv2d with a bias and no BatchNorm after it (squeeze-excite fc layers, heads): `param.weight`, `param.bias`. */
export function writeConv(w: ExportWriter, x: string, module: TorchModule, shape: ConvShape, weight: Float32Array, bias: Float32Array): string {
  const { dims } = weightDims(shape);
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
  const { dims } = weightDims(shape);
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
