// A multilayer perceptron: MatMul + Add (+ Relu between layers).
import { GraphBuilder, type BuildOptions } from '../builder';
import type { Model } from '../model';
import { heWeights, seedStream, smallBias } from './weights';

export interface MlpOptions {
  inputSize: number;
  hidden: number[];
  outputSize: number;
  /** Batch dimension: a size, or a symbolic name (default 'batch'). */
  batch?: number | string;
  seed?: number;
}

/** Input "input" [batch, inputSize] float32 -> output "output" [batch, outputSize]. */
export function buildMlp(options: MlpOptions, build: BuildOptions = {}): Model {
  const { inputSize, hidden, outputSize, batch = 'batch', seed = 0 } = options;
  const nextSeed = seedStream(seed);
  const g = new GraphBuilder('mlp');
  let x = g.input('input', 'float32', [batch, inputSize]);
  const sizes = [inputSize, ...hidden, outputSize];
  for (let layer = 0; layer + 1 < sizes.length; layer++) {
    const [fanIn, fanOut] = [sizes[layer], sizes[layer + 1]];
    const last = layer + 2 === sizes.length;
    const w = g.initializer(`fc${layer}.weight`, heWeights(fanIn * fanOut, fanIn, nextSeed(), last ? 1 : 2), [fanIn, fanOut]);
    const b = g.initializer(`fc${layer}.bias`, smallBias(fanOut, nextSeed()), [fanOut]);
    x = g.node('Add', [g.node('MatMul', [x, w]), b], last ? ['output'] : 1);
    if (!last) x = g.node('Relu', [x]);
  }
  g.output('output', 'float32', [batch, outputSize]);
  return g.build(build);
}
