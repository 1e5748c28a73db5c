// A small net that puts the CNN op set's less common forms in one graph, for engine op tests:
// constant and reflect Pad, LeakyRelu, grouped (not depthwise) Conv, MaxPool with dilations,
// AveragePool with ceil_mode and with count_include_pad 0 and 1, a SqueezeNet fire module (Concat of
// 1x1 and 3x3 branches), ConvTranspose, Resize nearest and linear; or, on [batch, C, L] signals,
// their 1-D forms. Written the way torch.onnx.export writes these modules.
import { attr, type AttributeValue } from '../attributes';
import { GraphBuilder, type BuildOptions } from '../builder';
import type { Model } from '../model';
import type { Dim } from '../value-info';
import { checkIntegers, imageSize, type ImageSizeOptions } from './conv-options';
import { childModule, exportConv, ROOT_MODULE, type TorchModule } from './export-conv';
import { exportGemm } from './export-ops';
import { checkExportOpset, ExportWriter, TORCH_EXPORT } from './export-writer';
import { heWeights, seedStream, smallBias } from './weights';

export interface ConvOpsNetOptions extends ImageSizeOptions {
  /** 'image': input [batch, channels, height, width] (default); 'signal': [batch, channels, length]. */
  layout?: 'image' | 'signal';
  /** Signal length (default 64). */
  length?: number;
  /** Input channels (default 4). */
  channels?: number;
  /** Classes (default 10). */
  classes?: number;
  /** Batch dimension: a symbolic name or a size (default 'batch'). */
  batch?: Dim;
  /** Opset 11..17 (default 13): Resize's unused roi is an empty Constant before 13 and left out from 13. */
  opset?: number;
  seed?: number;
}

/** The smallest sizes the layers accept: reflect padding needs a side longer than the pad. */
const MIN_IMAGE_SIDE = 4;
const MIN_SIGNAL_LENGTH = 3;

/** Width of the body's layers. */
const WIDTH = 16;

interface Pool {
  kernel: number;
  stride?: number;
  pad?: number;
  dilation?: number;
  ceil?: boolean;
  countIncludePad?: boolean;
}

/** Writes the net's nodes for one spatial rank. */
class OpsWriter {
  constructor(readonly w: ExportWriter, readonly rank: number, readonly seed: () => number) {}

  private perAxis(value: number): number[] {
    return Array.from({ length: this.rank }, () => value);
  }

  /** Conv with bias, square kernel, named like nn.Conv{rank}d at `module`. */
  conv(x: string, module: TorchModule, inChannels: number, outChannels: number, kernel: number, options: { pad?: number; group?: number; dilation?: number; gain?: number } = {}): string {
    const { gain = 2, ...geometry } = options;
    return exportConv(this.w, x, module, { inChannels, outChannels, kernel: this.perAxis(kernel), ...geometry }, this.seed, gain);
  }

  /** nn.ConvTranspose{rank}d with kernel = stride, which scales each side by `stride` exactly. */
  convTranspose(x: string, module: TorchModule, inChannels: number, outChannels: number, stride: number): string {
    const dims = [inChannels, outChannels, ...this.perAxis(stride)];
    // Kernel = stride: every output reads exactly one input position per input channel.
    const weight = this.w.g.initializer(`${module.param}.weight`, heWeights(dims.reduce((a, b) => a * b, 1), inChannels, this.seed()), dims);
    const bias = this.w.g.initializer(`${module.param}.bias`, smallBias(outChannels, this.seed()), [outChannels]);
    const attrs = { dilations: this.perAxis(1), group: 1, kernel_shape: this.perAxis(stride), pads: this.perAxis(0).concat(this.perAxis(0)), strides: this.perAxis(stride) };
    return this.w.scoped(module.scope, () => this.w.node('ConvTranspose', [x, weight, bias], attrs));
  }

  pool(op: 'MaxPool' | 'AveragePool', x: string, p: Pool): string {
    const { kernel, stride = 1, pad = 0, dilation = 1, ceil = false, countIncludePad = false } = p;
    const attrs: Record<string, AttributeValue> = { ceil_mode: ceil ? 1 : 0 };
    if (op === 'AveragePool') attrs.count_include_pad = countIncludePad ? 1 : 0;
    if (dilation !== 1) attrs.dilations = this.perAxis(dilation);
    Object.assign(attrs, { kernel_shape: this.perAxis(kernel), pads: this.perAxis(pad).concat(this.perAxis(pad)), strides: this.perAxis(stride) });
    return this.w.node(op, [x], attrs);
  }

  /** F.pad of every spatial side by `pad`: a pads Constant covering batch and channels too, and the value for 'constant'. */
  pad(x: string, pad: number, mode: 'constant' | 'reflect', value = 0): string {
    const pads = [0, 0, ...this.perAxis(pad)];
    const padsConstant = this.w.constant(new BigInt64Array([...pads, ...pads].map(BigInt)), [pads.length * 2]);
    const inputs = mode === 'constant' ? [x, padsConstant, this.w.float(value)] : [x, padsConstant];
    return this.w.node('Pad', inputs, { mode });
  }

  /** F.interpolate(scale_factor=2): nearest as torch writes it (asymmetric, floor), linear without align_corners. */
  upsample(x: string, mode: 'nearest' | 'linear'): string {
    const roi = this.w.opset >= 13 ? '' : this.w.constant(new Float32Array(0), [0]);
    const scales = this.w.constant(new Float32Array([1, 1, ...this.perAxis(2)]), [2 + this.rank]);
    return this.w.node('Resize', [x, roi, scales], {
      coordinate_transformation_mode: mode === 'nearest' ? 'asymmetric' : 'pytorch_half_pixel',
      cubic_coeff_a: attr.float(-0.75),
      mode,
      nearest_mode: 'floor',
    });
  }
}

/**
 * Input `input` FLOAT [batch, channels, height, width] (sides from 4 up; default 16 x 16) or, with
 * layout 'signal', [batch, channels, length] (length from 3 up); output `logits` FLOAT [batch, classes].
 * Weights are random, deterministic in `seed`.
 */
export function buildConvOpsNet(options: ConvOpsNetOptions = {}, build: Omit<BuildOptions, 'opset' | 'opsets'> = {}): Model {
  const { layout = 'image', length = 64, channels = 4, classes = 10, batch = 'batch', opset = 13, seed = 0 } = options;
  checkExportOpset(opset);
  checkIntegers({ channels, classes });
  const g = new GraphBuilder('torch_jit');
  const w = new ExportWriter(g, opset);
  let x: string;
  let ops: OpsWriter;
  if (layout === 'image') {
    const { height, width } = imageSize(options, 16, MIN_IMAGE_SIDE);
    ops = new OpsWriter(w, 2, seedStream(seed));
    x = imageBody(ops, g.input('input', 'float32', [batch, channels, height, width]), channels);
  } else {
    checkIntegers({ length }, MIN_SIGNAL_LENGTH);
    ops = new OpsWriter(w, 1, seedStream(seed));
    x = signalBody(ops, g.input('input', 'float32', [batch, channels, length]), channels);
  }
  x = w.scoped('avgpool', () => w.node('GlobalAveragePool', [x]));
  x = w.node('Flatten', [x], { axis: 1 });
  g.output(exportGemm(w, x, 'fc', 2 * WIDTH, classes, ops.seed, 1, 'logits'), 'float32', [batch, classes]);
  return g.build({ ...TORCH_EXPORT, ...build, opset });
}

const topLevel = (name: string): TorchModule => childModule(ROOT_MODULE, name);

/** [b, c, H, W] -> [b, 2 * WIDTH, h, w]: the ceil-mode pool halves the sides, the upsampling doubles them. */
function imageBody(ops: OpsWriter, input: string, channels: number): string {
  const { w } = ops;
  const padded = w.scoped('pad', () => ops.pad(input, 1, 'constant', 0.5));
  let x = ops.conv(padded, topLevel('conv0'), channels, WIDTH, 3, { gain: 1 });
  x = w.scoped('act0', () => w.node('LeakyRelu', [x], { alpha: attr.float(0.1) }));
  x = ops.conv(x, topLevel('grouped'), WIDTH, WIDTH, 3, { pad: 1, group: 4 });
  x = w.scoped('act1', () => w.node('Relu', [x]));
  x = w.scoped('dilated_pool', () => ops.pool('MaxPool', x, { kernel: 3, pad: 2, dilation: 2 }));
  // ceil_mode keeps the last, partial window on even sides.
  x = w.scoped('down', () => ops.pool('AveragePool', x, { kernel: 3, stride: 2, ceil: true }));
  x = exportFire(ops, x, topLevel('fire'), WIDTH, WIDTH / 2, WIDTH);

  const fused = 2 * WIDTH;
  const up = topLevel('up');
  x = w.scoped(up.scope, () => {
    const transposed = ops.convTranspose(x, childModule(up, 'transposed'), fused, WIDTH, 2);
    const nearest = w.scoped('nearest', () => ops.upsample(x, 'nearest'));
    const linear = w.scoped('linear', () => ops.upsample(x, 'linear'));
    const fromNearest = ops.conv(nearest, childModule(up, 'nearest_proj'), fused, WIDTH, 1, { gain: 1 });
    const fromLinear = ops.conv(linear, childModule(up, 'linear_proj'), fused, WIDTH, 1, { gain: 1 });
    return w.node('Concat', [transposed, fromNearest, fromLinear], { axis: 1 });
  });
  x = w.scoped('smooth', () => ops.pool('AveragePool', x, { kernel: 3, pad: 1, countIncludePad: true }));
  x = w.scoped('reduce', () => ops.pool('AveragePool', x, { kernel: 3, stride: 2, pad: 1, countIncludePad: false }));
  x = ops.conv(x, topLevel('head'), 3 * WIDTH, fused, 1);
  return w.scoped('act2', () => w.node('Relu', [x]));
}

/** SqueezeNet's fire module: squeeze 1x1 + Relu, then Concat of expand 1x1 + Relu and expand 3x3 (grouped, on a reflect pad) + Relu. */
function exportFire(ops: OpsWriter, x: string, fire: TorchModule, inChannels: number, squeeze: number, expand: number): string {
  const { w } = ops;
  return w.scoped(fire.scope, () => {
    const part = (name: string): TorchModule => childModule(fire, name);
    const squeezed = ops.conv(x, part('squeeze'), inChannels, squeeze, 1, { gain: 1 });
    const s = w.scoped('squeeze_activation', () => w.node('Relu', [squeezed]));
    const e1 = ops.conv(s, part('expand1x1'), squeeze, expand, 1);
    const a1 = w.scoped('expand1x1_activation', () => w.node('Relu', [e1]));
    const padded = w.scoped('pad', () => ops.pad(s, 1, 'reflect'));
    const e3 = ops.conv(padded, part('expand3x3'), squeeze, expand, 3, { group: 2 });
    const a3 = w.scoped('expand3x3_activation', () => w.node('Relu', [e3]));
    return w.node('Concat', [a1, a3], { axis: 1 });
  });
}

/** [b, c, L] -> [b, 2 * WIDTH, l]: the ceil-mode pool halves the length, the transposed conv doubles it. */
function signalBody(ops: OpsWriter, input: string, channels: number): string {
  const { w } = ops;
  let x = ops.conv(input, topLevel('conv0'), channels, WIDTH, 5, { pad: 2, gain: 1 });
  x = w.scoped('act0', () => w.node('LeakyRelu', [x], { alpha: attr.float(0.1) }));
  // Reflect pad 2 then a dilation-2 kernel 3: same length.
  const padded = w.scoped('pad', () => ops.pad(x, 2, 'reflect'));
  x = ops.conv(padded, topLevel('grouped'), WIDTH, WIDTH, 3, { dilation: 2, group: 2 });
  x = w.scoped('act1', () => w.node('Relu', [x]));
  x = w.scoped('dilated_pool', () => ops.pool('MaxPool', x, { kernel: 3, pad: 2, dilation: 2 }));
  x = w.scoped('down', () => ops.pool('AveragePool', x, { kernel: 2, stride: 2, ceil: true }));
  x = w.scoped('smooth', () => ops.pool('AveragePool', x, { kernel: 3, pad: 1, countIncludePad: false }));
  const branches = topLevel('branches');
  x = w.scoped(branches.scope, () => {
    const b1 = ops.conv(x, childModule(branches, 'pointwise'), WIDTH, WIDTH, 1, { gain: 1 });
    const b3 = ops.conv(x, childModule(branches, 'wide'), WIDTH, WIDTH, 3, { pad: 1, gain: 1 });
    return w.node('Relu', [w.node('Concat', [b1, b3], { axis: 1 })]);
  });
  x = ops.convTranspose(x, topLevel('up'), 2 * WIDTH, 2 * WIDTH, 2);
  return w.scoped('act2', () => w.node('Relu', [x]));
}
