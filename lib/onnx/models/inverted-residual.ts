// MobileNetV3's inverted residual block as torch.onnx.export writes torchvision's: optional 1x1
// expansion, depthwise k x k (group = channels), optional squeeze-excite, 1x1 projection without an
// activation, and the residual Add when the block keeps the shape.
import { childModule, exportConv, exportConvBn, exportHardSigmoid, exportHardSwish, HARD_SWISH_GAIN, type BatchNormMode, type ConvShape, type TorchModule } from './export-conv';
import type { ExportWriter } from './export-writer';

export type MobileNetActivation = 'relu' | 'hardswish';

export interface InvertedResidualSpec {
  /** Depthwise kernel size (3 or 5 in MobileNetV3). */
  kernel: number;
  /** Channels after the 1x1 expansion; equal to the input channels means no expansion Conv. */
  expanded: number;
  out: number;
  /** Squeeze-excite after the depthwise Conv. */
  se: boolean;
  activation: MobileNetActivation;
  /** Depthwise stride (1 or 2). */
  stride: number;
}

/** torchvision's _make_divisible: the nearest multiple of `divisor`, never more than 10% below `value`. */
export function makeDivisible(value: number, divisor = 8): number {
  const rounded = Math.max(divisor, Math.floor((value + divisor / 2) / divisor) * divisor);
  return rounded < 0.9 * value ? rounded + divisor : rounded;
}

/** torchvision pads the depthwise conv to keep the size at stride 1. */
export const depthwisePad = (kernel: number): number => (kernel - 1) >> 1;

// He gains keep unit scale: each conv's gain undoes the activation before it (none before the
// expansion, which reads the last block's linear projection). The squeeze-excite gate's mean square is
// about 1/3, and halving the residual branch keeps residual sums from doubling block by block.
const AFTER_SE_GAIN = 3;
const RESIDUAL_BN_GAIN = 0.5;

/** What an inverted residual block reads: channels, spatial size, and the He gain for a conv reading it. */
export interface BlockInput {
  channels: number;
  size: readonly number[];
  gain: number;
}

/** features.N reading `x`. */
export function exportInvertedResidual(
  w: ExportWriter, x: string, module: TorchModule, input: BlockInput, spec: InvertedResidualSpec, seed: () => number, mode: BatchNormMode,
): string {
  const inChannels = input.channels;
  const { kernel, expanded, out, se, activation, stride } = spec;
  const activationGain = activation === 'relu' ? 2 : HARD_SWISH_GAIN;
  const residual = stride === 1 && inChannels === out;
  return w.scoped(module.scope, () => {
    const block = childModule(module, 'block');
    const result = w.scoped(block.scope, () => {
      let index = 0;
      // Each layer of the block Sequential is Conv2dNormActivation (Conv .0, BatchNorm .1, activation .2) or SE.
      const convBnActivation = (input: string, shape: ConvShape, gain: number): string => {
        const layer = childModule(block, index++, true);
        return w.scoped(layer.scope, () => {
          const y = exportConvBn(w, input, childModule(layer, 0, true), childModule(layer, 1, true), shape, seed, { mode, gain });
          return w.scoped(childModule(layer, 2, true).scope, () => (activation === 'relu' ? w.node('Relu', [y]) : exportHardSwish(w, y)));
        });
      };
      let y = x;
      const expands = expanded !== inChannels;
      if (expands) y = convBnActivation(y, { inChannels, outChannels: expanded, kernel: [1, 1] }, input.gain);
      const depthwise = { inChannels: expanded, outChannels: expanded, kernel: [kernel, kernel], stride, pad: depthwisePad(kernel), group: expanded, input: input.size };
      y = convBnActivation(y, depthwise, expands ? activationGain : input.gain);
      if (se) y = exportSqueezeExcite(w, y, childModule(block, index++, true), expanded, seed);
      const project = childModule(block, index, true);
      const gains = { gain: activationGain * (se ? AFTER_SE_GAIN : 1), bnGain: residual ? RESIDUAL_BN_GAIN : 1 };
      return w.scoped(project.scope, () =>
        exportConvBn(w, y, childModule(project, 0, true), childModule(project, 1, true), { inChannels: expanded, outChannels: out, kernel: [1, 1] }, seed, { mode, ...gains }));
    });
    return residual ? w.node('Add', [result, x]) : result;
  });
}

/** GlobalAveragePool -> fc1 (1x1 Conv) -> Relu -> fc2 -> HardSigmoid, then Mul(scale, x). */
function exportSqueezeExcite(w: ExportWriter, x: string, module: TorchModule, channels: number, seed: () => number): string {
  const squeeze = makeDivisible(Math.floor(channels / 4));
  return w.scoped(module.scope, () => {
    const pooled = w.scoped('avgpool', () => w.node('GlobalAveragePool', [x]));
    const fc1 = exportConv(w, pooled, childModule(module, 'fc1'), { inChannels: channels, outChannels: squeeze, kernel: [1, 1] }, seed);
    const relu = w.scoped('activation', () => w.node('Relu', [fc1]));
    const fc2 = exportConv(w, relu, childModule(module, 'fc2'), { inChannels: squeeze, outChannels: channels, kernel: [1, 1] }, seed);
    const scale = w.scoped('scale_activation', () => exportHardSigmoid(w, fc2));
    return w.node('Mul', [scale, x]);
  });
}
