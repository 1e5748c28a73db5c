// A MobileNetV3-small-shaped classifier as torch.onnx.export (PyTorch 1.13) writes torchvision's
// mobilenet_v3_small: stem Conv 3x3/2 + hard-swish, inverted residual blocks (1x1 expansion, depthwise
// k x k, squeeze-excite, 1x1 projection, residual Add where shapes match), a 1x1 Conv + hard-swish,
// GlobalAveragePool, Flatten and a Gemm head with a hidden Gemm + hard-swish.
import { GraphBuilder, type BuildOptions } from '../builder';
import type { Model } from '../model';
import type { Dim } from '../value-info';
import { checkIntegers, imageSize, type ImageSizeOptions } from './conv-options';
import { slidingOutputSize, type ConvShape } from './conv-geometry';
import { childModule, ROOT_MODULE, type BatchNormMode } from './export-conv';
import { checkExportOpset, ExportWriter, TORCH_EXPORT } from './export-writer';
import { ACTIVATION_STD, depthwisePad, exportInvertedResidual, makeDivisible, type InvertedResidualSpec } from './inverted-residual';
import { probeImages, ProbedLayers, type Probed } from './probed-layers';
import { seedStream } from './weights';

export type { InvertedResidualSpec, MobileNetActivation } from './inverted-residual';

/** torchvision's mobilenet_v3_small blocks (input channels follow from the stem and the block before). */
export const MOBILENET_V3_SMALL_BLOCKS: readonly InvertedResidualSpec[] = [
  { kernel: 3, expanded: 16, out: 16, se: true, activation: 'relu', stride: 2 },
  { kernel: 3, expanded: 72, out: 24, se: false, activation: 'relu', stride: 2 },
  { kernel: 3, expanded: 88, out: 24, se: false, activation: 'relu', stride: 1 },
  { kernel: 5, expanded: 96, out: 40, se: true, activation: 'hardswish', stride: 2 },
  { kernel: 5, expanded: 240, out: 40, se: true, activation: 'hardswish', stride: 1 },
  { kernel: 5, expanded: 240, out: 40, se: true, activation: 'hardswish', stride: 1 },
  { kernel: 5, expanded: 120, out: 48, se: true, activation: 'hardswish', stride: 1 },
  { kernel: 5, expanded: 144, out: 48, se: true, activation: 'hardswish', stride: 1 },
  { kernel: 5, expanded: 288, out: 96, se: true, activation: 'hardswish', stride: 2 },
  { kernel: 5, expanded: 576, out: 96, se: true, activation: 'hardswish', stride: 1 },
  { kernel: 5, expanded: 576, out: 96, se: true, activation: 'hardswish', stride: 1 },
];

export interface MobileNetV3LikeOptions extends ImageSizeOptions {
  /** The blocks, channels unscaled (default MOBILENET_V3_SMALL_BLOCKS). */
  blocks?: readonly InvertedResidualSpec[];
  /** Scales every channel count, rounded to a multiple of 8 as torchvision does (default 1). */
  widthMultiplier?: number;
  /** Stem output channels, unscaled (default 16). */
  stem?: number;
  /** Channels of the last 1x1 Conv, unscaled (default 6 x the last block's output). */
  lastChannels?: number;
  /** Width of the hidden Gemm + hard-swish in the head, unscaled; 0 for none (default 1024). */
  headHidden?: number;
  /** Classes (default 1000). */
  classes?: number;
  /** Batch dimension: a symbolic name or a size (default 'batch'). */
  batch?: Dim;
  /** Opset 11..17 (default 13): hard-swish is the HardSwish op from 14, x * HardSigmoid(x) before. */
  opset?: number;
  /** BatchNorm folded into each Conv as torch's eval export writes it, or kept as its own node (default 'folded'). */
  batchNorm?: BatchNormMode;
  seed?: number;
}

/**
 * Images in the probe batch that sets the BatchNorm statistics and layer scales (see probed-layers.ts):
 * enough that each channel of the last feature map shows at least PROBE_VALUES values, since statistics
 * of a few values (a 1x1 map of one image) normalise by chance.
 */
const PROBE_VALUES = 16;

function probeImageCount(height: number, width: number, blocks: readonly InvertedResidualSpec[]): number {
  let size = [height, width].map((n) => slidingOutputSize(n, 3, 2, 1));
  for (const b of blocks) size = size.map((n) => slidingOutputSize(n, b.kernel, b.stride, depthwisePad(b.kernel)));
  return Math.ceil(PROBE_VALUES / (size[0] * size[1]));
}

/**
 * Input `input` FLOAT [batch, 3, height, width] (default 224 x 224; any size from 1 up), output
 * `logits` FLOAT [batch, classes]. Values are named as torch names them
 * (/features/features.4/block/block.2/fc1/Conv_output_0). Weights are random, deterministic in `seed`;
 * BatchNorm statistics and layer scales are set on a probe batch of unit-variance images, on which
 * the logits have rms 1 (inputs are expected normalised per channel, as torchvision's transforms do).
 */
export function buildMobileNetV3Like(options: MobileNetV3LikeOptions = {}, build: Omit<BuildOptions, 'opset' | 'opsets'> = {}): Model {
  const {
    blocks = MOBILENET_V3_SMALL_BLOCKS, widthMultiplier = 1, stem = 16, headHidden = 1024, classes = 1000,
    batch = 'batch', opset = 13, batchNorm = 'folded', seed = 0,
  } = options;
  checkExportOpset(opset);
  const { height, width } = imageSize(options, 224);
  if (!(widthMultiplier > 0)) throw new RangeError(`widthMultiplier must be positive, not ${widthMultiplier}`);
  if (blocks.length === 0) throw new RangeError('blocks must list at least one block');
  for (const b of blocks) checkIntegers({ kernel: b.kernel, expanded: b.expanded, out: b.out, stride: b.stride });
  const lastChannels = options.lastChannels ?? 6 * blocks[blocks.length - 1].out;
  checkIntegers({ stem, lastChannels, classes });
  checkIntegers({ headHidden }, 0);
  const scale = (channels: number): number => makeDivisible(channels * widthMultiplier);

  const g = new GraphBuilder('torch_jit');
  const w = new ExportWriter(g, opset);
  const layers = new ProbedLayers(w, seedStream(seed), batchNorm);
  const features = childModule(ROOT_MODULE, 'features');
  // features.0 and the last features.N are Conv2dNormActivation: Conv at .0, BatchNorm at .1, hard-swish at .2.
  const convBnHardSwish = (x: Probed, index: number, shape: ConvShape): Probed => {
    const layer = childModule(features, index, true);
    return w.scoped(layer.scope, () => {
      const y = layers.convBn(x, childModule(layer, 0, true), childModule(layer, 1, true), shape, ACTIVATION_STD);
      return w.scoped(childModule(layer, 2, true).scope, () => layers.hardSwish(y));
    });
  };

  const input = { name: g.input('input', 'float32', [batch, 3, height, width]), probe: probeImages(probeImageCount(height, width, blocks), 3, [height, width], seed) };
  let x = w.scoped(features.scope, () => {
    let y = convBnHardSwish(input, 0, { inChannels: 3, outChannels: scale(stem), kernel: [3, 3], stride: 2, pad: 1 });
    blocks.forEach((spec, i) => {
      y = exportInvertedResidual(layers, y, childModule(features, i + 1, true), { ...spec, expanded: scale(spec.expanded), out: scale(spec.out) });
    });
    return convBnHardSwish(y, blocks.length + 1, { inChannels: y.probe.channels, outChannels: scale(lastChannels), kernel: [1, 1] });
  });
  x = w.scoped('avgpool', () => layers.globalAveragePool(x));
  x = layers.flatten(x);
  // classifier: Linear, Hardswish, Dropout (gone in eval), Linear; without a hidden layer just the Linear.
  const classifier = childModule(ROOT_MODULE, 'classifier');
  const logits = w.scoped(classifier.scope, () => {
    if (headHidden === 0) return layers.gemm(x, `${classifier.param}.0`, classes, 1, 'logits');
    const hidden = layers.gemm(x, `${classifier.param}.0`, scale(headHidden), ACTIVATION_STD);
    const activated = w.scoped(`${classifier.scope}.1`, () => layers.hardSwish(hidden));
    return layers.gemm(activated, `${classifier.param}.3`, classes, 1, 'logits');
  }).name;
  g.output(logits, 'float32', [batch, classes]);
  return g.build({ ...TORCH_EXPORT, ...build, opset });
}
