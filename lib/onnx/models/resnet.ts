// A ResNet-18-shaped classifier as torch.onnx.export (PyTorch 1.13) writes torchvision's resnet18:
// stem Conv 7x7/2 + Relu + MaxPool 3x3/2, stages of BasicBlocks (a 1x1 stride-2 Conv downsample
// where a stage halves the size), GlobalAveragePool, Flatten, Gemm.
import { GraphBuilder, type BuildOptions } from '../builder';
import type { Model } from '../model';
import type { Dim } from '../value-info';
import { checkIntegers, imageSize, type ImageSizeOptions } from './conv-options';
import { convOutputSize, slidingOutputSize, type ConvShape } from './conv-geometry';
import { childModule, exportConvBn, ROOT_MODULE, type BatchNormMode, type TorchModule } from './export-conv';
import { exportGemm } from './export-ops';
import { checkExportOpset, ExportWriter, TORCH_EXPORT } from './export-writer';
import { seedStream } from './weights';

export interface ResNetLikeOptions extends ImageSizeOptions {
  /** Output channels of each stage (default [64, 128, 256, 512]); the stem has the first. */
  widths?: number[];
  /** BasicBlocks per stage (default [2, 2, 2, 2]). */
  blocks?: number[];
  /** Classes of the Gemm head (default 1000). */
  classes?: number;
  /** Batch dimension: a symbolic name or a size (default 'batch'). */
  batch?: Dim;
  /** Opset 11..17 (default 13). */
  opset?: number;
  /** BatchNorm folded into each Conv as torch's eval export writes it, or kept as its own node (default 'folded'). */
  batchNorm?: BatchNormMode;
  seed?: number;
}

/** Scale of each block's last BatchNorm: the residual sum then grows slowly instead of doubling per block. */
const RESIDUAL_BN_GAIN = 0.5;

/** He gains for convs that read a block's output, whose ReLU'd values (unlike a fresh ReLU's) are mostly positive. */
const BLOCK_INPUT_GAIN = 1;

type ConvBn = (x: string, conv: TorchModule, bn: TorchModule, shape: ConvShape, gains?: { gain?: number; bnGain?: number }) => string;

/**
 * Input `input` FLOAT [batch, 3, height, width] (default 224 x 224; any size from 1 up), output
 * `logits` FLOAT [batch, classes]. Values are named as torch names them (/layer2/layer2.0/conv1/Conv_output_0);
 * weights are random, deterministic in `seed`, He-scaled so the logits stay near unit scale.
 */
export function buildResNetLike(options: ResNetLikeOptions = {}, build: Omit<BuildOptions, 'opset' | 'opsets'> = {}): Model {
  const { widths = [64, 128, 256, 512], blocks = [2, 2, 2, 2], classes = 1000, batch = 'batch', opset = 13, batchNorm = 'folded', seed = 0 } = options;
  checkExportOpset(opset);
  const { height, width } = imageSize(options, 224);
  checkIntegers({ widths, blocks, classes });
  if (widths.length === 0 || widths.length !== blocks.length) {
    throw new RangeError(`widths (${widths.length} stages) and blocks (${blocks.length}) must list the same, non-zero number of stages`);
  }
  const nextSeed = seedStream(seed);
  const g = new GraphBuilder('torch_jit');
  const w = new ExportWriter(g, opset);
  const convBn: ConvBn = (x, conv, bn, shape, gains = {}) => exportConvBn(w, x, conv, bn, shape, nextSeed, { mode: batchNorm, ...gains });

  let x = g.input('input', 'float32', [batch, 3, height, width]);
  const stem = { inChannels: 3, outChannels: widths[0], kernel: [7, 7], stride: 2, pad: 3, input: [height, width] };
  x = convBn(x, childModule(ROOT_MODULE, 'conv1'), childModule(ROOT_MODULE, 'bn1'), stem, { gain: 1 });
  x = w.scoped('relu', () => w.node('Relu', [x]));
  x = w.scoped('maxpool', () => w.node('MaxPool', [x], { ceil_mode: 0, kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] }));
  let size = convOutputSize(stem).map((n) => slidingOutputSize(n, 3, 2, 1));
  let inChannels = widths[0];
  widths.forEach((channels, stage) => {
    const layer = childModule(ROOT_MODULE, `layer${stage + 1}`);
    w.scoped(layer.scope, () => {
      for (let b = 0; b < blocks[stage]; b++) {
        const stride = stage > 0 && b === 0 ? 2 : 1;
        const conv1 = { inChannels, outChannels: channels, kernel: [3, 3], stride, pad: 1, input: size };
        x = exportBasicBlock(w, x, childModule(layer, b, true), conv1, convBn);
        size = convOutputSize(conv1);
        inChannels = channels;
      }
    });
  });
  x = w.scoped('avgpool', () => w.node('GlobalAveragePool', [x]));
  x = w.node('Flatten', [x], { axis: 1 });
  g.output(exportGemm(w, x, 'fc', inChannels, classes, nextSeed, 1, 'logits'), 'float32', [batch, classes]);
  return g.build({ ...TORCH_EXPORT, ...build, opset });
}

/**
 * conv1 (of shape `conv1`) -> relu -> conv2, plus x or its 1x1 downsample, then relu (called a second
 * time, so torch scopes it "relu_1").
 */
function exportBasicBlock(w: ExportWriter, x: string, block: TorchModule, conv1: ConvShape & { input: number[] }, convBn: ConvBn): string {
  const { inChannels, outChannels, stride = 1 } = conv1;
  return w.scoped(block.scope, () => {
    const part = (name: string): TorchModule => childModule(block, name);
    const y = convBn(x, part('conv1'), part('bn1'), conv1, { gain: BLOCK_INPUT_GAIN });
    const relu = w.scoped('relu', () => w.node('Relu', [y]));
    const shape2 = { inChannels: outChannels, outChannels, kernel: [3, 3], pad: 1, input: convOutputSize(conv1) };
    const conv2 = convBn(relu, part('conv2'), part('bn2'), shape2, { bnGain: RESIDUAL_BN_GAIN });
    let identity = x;
    if (stride !== 1 || inChannels !== outChannels) {
      const down = part('downsample');
      identity = w.scoped(down.scope, () =>
        convBn(x, childModule(down, 0, true), childModule(down, 1, true), { inChannels, outChannels, kernel: [1, 1], stride }, { gain: BLOCK_INPUT_GAIN }));
    }
    const sum = w.node('Add', [conv2, identity]);
    return w.scoped('relu_1', () => w.node('Relu', [sum]));
  });
}
