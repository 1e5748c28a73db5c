// A small image classifier: [Conv 3x3 -> Relu -> MaxPool 2x2] per width, GlobalAveragePool, Flatten, Gemm.
import { GraphBuilder, type BuildOptions } from '../builder';
import type { Model } from '../model';
import { heWeights, seedStream, smallBias } from './weights';

export interface ConvNetOptions {
  /** Input channels (3 for RGB). */
  channels: number;
  /** Input height and width. */
  size: number;
  classes: number;
  /** Output channels of each conv stage (default [8, 16]). */
  widths?: number[];
  /** Batch dimension: a size, or a symbolic name (default 1). */
  batch?: number | string;
  seed?: number;
}

/** Input "input" [batch, channels, size, size] float32 -> output "output" [batch, classes]. */
export function buildConvNet(options: ConvNetOptions, build: BuildOptions = {}): Model {
  const { channels, size, classes, widths = [8, 16], batch = 1, seed = 0 } = options;
  const nextSeed = seedStream(seed);
  const g = new GraphBuilder('conv_net');
  let x = g.input('input', 'float32', [batch, channels, size, size]);
  let inChannels = channels;
  widths.forEach((width, stage) => {
    const fanIn = inChannels * 9;
    const w = g.initializer(`conv${stage}.weight`, heWeights(width * fanIn, fanIn, nextSeed()), [width, inChannels, 3, 3]);
    const b = g.initializer(`conv${stage}.bias`, smallBias(width, nextSeed()), [width]);
    x = g.node('Relu', [g.node('Conv', [x, w, b], 1, { kernel_shape: [3, 3], pads: [1, 1, 1, 1] })]);
    x = g.node('MaxPool', [x], 1, { kernel_shape: [2, 2], strides: [2, 2] });
    inChannels = width;
  });
  x = g.node('Flatten', [g.node('GlobalAveragePool', [x])], 1, { axis: 1 });
  const w = g.initializer('fc.weight', heWeights(classes * inChannels, inChannels, nextSeed(), 1), [classes, inChannels]);
  const b = g.initializer('fc.bias', smallBias(classes, nextSeed()), [classes]);
  g.node('Gemm', [x, w, b], ['output'], { transB: 1 });
  g.output('output', 'float32', [batch, classes]);
  return g.build(build);
}
