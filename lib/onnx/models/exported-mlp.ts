// An MLP as torch.onnx.export writes an nn.Sequential of [Flatten,] Linear, ReLU, ..., Linear:
// Flatten for image-shaped input, then Gemm (transB=1) per Linear with Relu between.
import { GraphBuilder, type BuildOptions } from '../builder';
import type { Model } from '../model';
import type { Dim } from '../value-info';
import { exportGemm } from './export-ops';
import { checkExportOpset, ExportWriter, TORCH_EXPORT } from './export-writer';
import { seedStream } from './weights';

export interface ExportedMlpOptions {
  /** One sample's shape: [1, 28, 28] (default) is flattened first, [features] goes straight to Gemm. */
  inputShape?: number[];
  /** Widths of the hidden layers (default [256]); e.g. [1024, 1024] for 784-1024-1024-10. */
  hidden?: number[];
  /** Output classes (default 10). */
  outputSize?: number;
  /** Batch dimension: a symbolic name or a size (default 'batch'). */
  batch?: Dim;
  /** Opset 11..17 (default 13); these ops are written alike in all of them. */
  opset?: number;
  seed?: number;
}

/**
 * Input `image` FLOAT [batch, ...inputShape] when it has more than one axis, else `input` FLOAT
 * [batch, features]; output `logits` FLOAT [batch, outputSize]. The defaults are the configuration of
 * shared/exporter-graphs/mlp-784-256-10-opset13.txt, parameter names (net.1.weight, ...) included.
 */
export function buildExportedMlp(options: ExportedMlpOptions = {}, build: Omit<BuildOptions, 'opset' | 'opsets'> = {}): Model {
  const { inputShape = [1, 28, 28], hidden = [256], outputSize = 10, batch = 'batch', opset = 13, seed = 0 } = options;
  checkExportOpset(opset);
  const sizes = [inputShape.reduce((a, b) => a * b, 1), ...hidden, outputSize];
  for (const size of [...inputShape, ...sizes]) if (!Number.isInteger(size) || size < 1) throw new RangeError(`layer and input sizes must be positive integers, not ${size}`);
  const nextSeed = seedStream(seed);
  const g = new GraphBuilder('torch_jit');
  const w = new ExportWriter(g, opset);
  const flatten = inputShape.length > 1;
  let x = g.input(flatten ? 'image' : 'input', 'float32', [batch, ...inputShape]);
  w.scoped('net', () => {
    // Module indices of the nn.Sequential: [Flatten,] Linear, ReLU, Linear, ReLU, ..., Linear.
    let module = 0;
    if (flatten) x = w.scoped(`net.${module++}`, () => w.node('Flatten', [x], { axis: 1 }));
    for (let layer = 0; layer + 1 < sizes.length; layer++) {
      const last = layer + 2 === sizes.length;
      x = exportGemm(w, x, `net.${module++}`, sizes[layer], sizes[layer + 1], nextSeed, last ? 1 : 2, last ? 'logits' : undefined);
      if (!last) x = w.scoped(`net.${module++}`, () => w.node('Relu', [x]));
    }
  });
  g.output(x, 'float32', [batch, outputSize]);
  return g.build({ ...TORCH_EXPORT, ...build, opset });
}
