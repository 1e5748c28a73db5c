// MobileNetV3's inverted residual block as torch.onnx.export writes torchvision's: optional 1x1
// expansion, depthwise k x k (group = channels), optional squeeze-excite, 1x1 projection without an
// activation, and the residual Add when the block keeps the shape.
import type { ConvShape } from './conv-geometry';
import { childModule, type TorchModule } from './export-conv';
import { probeRms } from './probe';
import type { Probed, ProbedLayers } from './probed-layers';

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

/**
 * The std of the pre-activations. Hard-swish is ReLU-like beyond |x| = 3 and curved inside: at std 5
 * nearly half the values fall in the curved part, yet a change in the input's scale passes through 20
 * layers almost unamplified (at std 1 each hard-swish layer amplifies it by about 1.2, so an image
 * twice as bright as the probe's would blow the logits up).
 */
export const ACTIVATION_STD = 5;

// The squeeze-excite gate's input std: HardSigmoid spans most of its range and clips now and then.
const GATE_STD = 2;
// The residual branch's share: the sum then grows slowly instead of doubling block by block.
const RESIDUAL_BRANCH_SHARE = 0.5;

/** features.N reading `x`. */
export function exportInvertedResidual(layers: ProbedLayers, x: Probed, module: TorchModule, spec: InvertedResidualSpec): Probed {
  const { w } = layers;
  const { kernel, expanded, out, se, activation, stride } = spec;
  const inChannels = x.probe.channels;
  const residual = stride === 1 && inChannels === out;
  return w.scoped(module.scope, () => {
    const block = childModule(module, 'block');
    const result = w.scoped(block.scope, () => {
      let index = 0;
      // Each layer of the block Sequential is Conv2dNormActivation (Conv .0, BatchNorm .1, activation .2) or SE.
      const convBnActivation = (input: Probed, shape: ConvShape): Probed => {
        const layer = childModule(block, index++, true);
        return w.scoped(layer.scope, () => {
          const y = layers.convBn(input, childModule(layer, 0, true), childModule(layer, 1, true), shape, ACTIVATION_STD);
          return w.scoped(childModule(layer, 2, true).scope, () => (activation === 'relu' ? layers.relu(y) : layers.hardSwish(y)));
        });
      };
      let y = x;
      if (expanded !== inChannels) y = convBnActivation(y, { inChannels, outChannels: expanded, kernel: [1, 1] });
      y = convBnActivation(y, { inChannels: expanded, outChannels: expanded, kernel: [kernel, kernel], stride, pad: depthwisePad(kernel), group: expanded });
      if (se) y = exportSqueezeExcite(layers, y, childModule(block, index++, true));
      const project = childModule(block, index, true);
      const std = residual ? RESIDUAL_BRANCH_SHARE * probeRms(x.probe) : 1;
      return w.scoped(project.scope, () =>
        layers.convBn(y, childModule(project, 0, true), childModule(project, 1, true), { inChannels: expanded, outChannels: out, kernel: [1, 1] }, std));
    });
    return residual ? layers.add(result, x) : result;
  });
}

/** torchvision pads the depthwise conv to keep the size at stride 1. */
export const depthwisePad = (kernel: number): number => (kernel - 1) >> 1;

/** GlobalAveragePool -> fc1 (1x1 Conv) -> Relu -> fc2 -> HardSigmoid, then Mul(scale, x). */
function exportSqueezeExcite(layers: ProbedLayers, x: Probed, module: TorchModule): Probed {
  const { w } = layers;
  const channels = x.probe.channels;
  const squeeze = makeDivisible(Math.floor(channels / 4));
  return w.scoped(module.scope, () => {
    const pooled = w.scoped('avgpool', () => layers.globalAveragePool(x));
    const fc1 = layers.conv(pooled, childModule(module, 'fc1'), { inChannels: channels, outChannels: squeeze, kernel: [1, 1] }, 1);
    const activated = w.scoped('activation', () => layers.relu(fc1));
    const fc2 = layers.conv(activated, childModule(module, 'fc2'), { inChannels: squeeze, outChannels: channels, kernel: [1, 1] }, GATE_STD);
    const scale = w.scoped('scale_activation', () => layers.hardSigmoid(fc2));
    return layers.gate(scale, x);
  });
}
