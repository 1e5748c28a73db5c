// Pruned conv nets on the native engine: the convolutions pruned past the conv crossover run on the
// sparse float kernel (64-row tiles of output pixels), and the outputs match onnxruntime's dense run.
import { GraphBuilder } from '../../lib/onnx/builder';
import { buildMobileNetV3Like } from '../../lib/onnx/models/mobilenet-v3';
import { buildResNetLike } from '../../lib/onnx/models/resnet';
import { randomNormal } from '../../lib/onnx/random';
import type { Model } from '../../lib/onnx/model';
import { prune } from '../../lib/prune';
import { SPARSE_CROSSOVER } from '../../lib/engine/native/weights';
import { compareRun, floatFeed, loadBoth, type EnginePair } from './native-helpers';

async function pruned(model: Model): Promise<Model> {
  return (await prune(model, { sparsity: 0.8, pattern: 'unstructured', minParams: 0 })).model;
}

/**
 * Every conv layer over an image at or past the conv crossover runs sparse, saying which rule chose it; a conv
 * over a pooled 1 x 1 map (squeeze-excite: one row per image) takes the linear crossover (85%) and stays dense.
 */
function expectConvChoices(pair: EnginePair, convNodes: Set<string>): { sparse: number; pooled: number } {
  const layers = pair.native.report.layers.filter((l) => convNodes.has(l.name.replace(/\/group\d+$/, '')));
  const pooled = layers.filter((l) => l.reason.endsWith('(linear crossover)'));
  for (const layer of pooled) {
    expect({ name: layer.name, kind: layer.kind }).toEqual({ name: layer.name, kind: 'dense' });
    expect(layer.reason).toMatch(/^sparsity (79|80)\.\d% < 85% \(linear crossover\)$/);
  }
  for (const layer of layers.filter((l) => !pooled.includes(l))) {
    if (layer.sparsity >= SPARSE_CROSSOVER.convFloat32) {
      expect({ name: layer.name, kind: layer.kind }).toEqual({ name: layer.name, kind: 'sparse' });
      expect(layer.reason).toMatch(/^sparsity \d+\.\d% >= 70% \(conv crossover \(rows = pixels x batch\)\)$/);
    } else {
      expect({ name: layer.name, kind: layer.kind }).toEqual({ name: layer.name, kind: 'dense' });
    }
  }
  return { sparse: layers.filter((l) => l.kind === 'sparse').length, pooled: pooled.length };
}

/**
 * Awkward windows on a 15 x 17 input: 7x7 over 8 channels (im2col rows), 1x1 stride 2 and grouped 3x3 (taps read in
 * place), and a pointwise conv on its input in place.
 */
function awkwardConvs(): Model {
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', ['n', 8, 15, 17]);
  const w = (name: string, dims: number[], seed: number) => g.initializer(name, randomNormal(dims.reduce((p, d) => p * d, 1), seed, 0.2), dims);
  const a = g.node('Conv', [x, w('wa', [16, 8, 7, 7], 1)], 1, { pads: [3, 3, 3, 3] });
  const ra = g.node('Relu', [a], 1);
  const b = g.node('Conv', [ra, w('wb', [32, 16, 1, 1], 2), w('bb', [32], 3)], 1, { strides: [2, 2] });
  // 16 channels per group: the second group's taps start 16 channels into each pixel.
  const c = g.node('Conv', [b, w('wc', [32, 16, 3, 3], 4)], 1, { group: 2, pads: [1, 1, 1, 1] });
  g.node('Conv', [c, w('wd', [20, 32, 1, 1], 5)], ['y']);
  g.output('y', 'float32');
  return g.build({ opset: 13 });
}

/**
 * The epilogues the sparse kernel's output pass applies while it stores each tile (taps read in place, 16+ channels
 * per group): bias + Relu + a scalar Mul/Add after it; bias + residual + Relu; a grouped conv + residual + Relu6
 * (the residual read at the group's channel offset); and a Sigmoid, which is no clamp and runs as its own pass.
 */
function fusedEpilogueConvs(): Model {
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', ['n', 16, 9, 11]);
  const w = (name: string, dims: number[], seed: number) => g.initializer(name, randomNormal(dims.reduce((p, d) => p * d, 1), seed, 0.2), dims);
  const pads = { pads: [1, 1, 1, 1] };
  const a = g.node('Conv', [x, w('wa', [32, 16, 3, 3], 11), w('ba', [32], 12)], 1, pads);
  const ra = g.node('Relu', [a], 1);
  const sa = g.node('Mul', [ra, g.initializer('scale', new Float32Array([0.5]), [])], 1);
  const pa = g.node('Add', [sa, g.initializer('shift', new Float32Array([0.25]), [])], 1);
  const b = g.node('Conv', [pa, w('wb', [32, 32, 3, 3], 13), w('bb', [32], 14)], 1, pads);
  const rb = g.node('Relu', [g.node('Add', [b, pa], 1)], 1);
  const c = g.node('Conv', [rb, w('wc', [32, 16, 3, 3], 15), w('bc', [32], 16)], 1, { group: 2, ...pads });
  const clip = g.node('Clip', [g.node('Add', [rb, c], 1), g.initializer('lo', new Float32Array([0]), []), g.initializer('hi', new Float32Array([6]), [])], 1);
  const d = g.node('Conv', [clip, w('wd', [24, 32, 3, 3], 17)], 1, { strides: [2, 2], ...pads });
  g.node('Sigmoid', [d], ['y']);
  g.output('y', 'float32');
  return g.build({ opset: 13 });
}

/**
 * Convs over 3 channels (a stem's), whose window rows the sparse kernel reads from a zero-padded copy of the input:
 * SAME_UPPER padding (more at the bottom and right) with stride 2, a dilated kernel height with uneven pads, and a
 * dilated width (no contiguous window rows: im2col rows instead).
 */
function fewChannelConvs(): Model {
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', ['n', 3, 10, 13]);
  const w = (name: string, dims: number[], seed: number) => g.initializer(name, randomNormal(dims.reduce((p, d) => p * d, 1), seed, 0.2), dims);
  g.node('Conv', [x, w('wa', [16, 3, 3, 3], 21), w('ba', [16], 22)], ['a'], { auto_pad: 'SAME_UPPER', strides: [2, 2] });
  g.node('Conv', [x, w('wb', [16, 3, 3, 2], 23)], ['b'], { dilations: [2, 1], pads: [2, 1, 2, 0] });
  g.node('Conv', [x, w('wc', [16, 3, 5, 5], 24)], ['c'], { dilations: [1, 2], pads: [2, 4, 2, 4] });
  for (const name of ['a', 'b', 'c']) g.output(name, 'float32');
  return g.build({ opset: 13 });
}

describe('pruned conv nets (80% unstructured) on the sparse kernel', () => {
  test.each([
    ['ResNet-18-like, 33 px', () => buildResNetLike({ size: 33, classes: 10, seed: 3 }), [3, 33, 33]],
    ['MobileNetV3-small-like, 33 px', () => buildMobileNetV3Like({ size: 33, classes: 10, headHidden: 32, seed: 5 }), [3, 33, 33]],
    ['awkward windows, 15 x 17', awkwardConvs, [8, 15, 17]],
    ['3-channel windows (SAME_UPPER, dilations), 10 x 13', fewChannelConvs, [3, 10, 13]],
    ['fused epilogues (post affine, residual + Relu, grouped residual + Relu6), 9 x 11', fusedEpilogueConvs, [16, 9, 11]],
  ] as const)('%s: the pruned convolutions run sparse and match onnxruntime', async (_name, build, image) => {
    const model = await pruned(build());
    const convNodes = new Set(model.nodes().filter((n) => n.node.opType === 'Conv').map((n) => n.node.name!));
    const pair = await loadBoth(model);
    try {
      // Every conv the engine runs as a product (not depthwise) was pruned to 80%, and runs sparse.
      const convLayers = pair.native.report.layers.filter((l) => convNodes.has(l.name.replace(/\/group\d+$/, '')));
      expect(convLayers.every((l) => Math.abs(l.sparsity - 0.8) < 0.01)).toBe(true);
      const ungrouped = model.nodes().filter((n) => n.node.opType === 'Conv' && !(n.node.attribute ?? []).some((a) => a.name === 'group' && Number(a.i) > 1));
      expect(ungrouped.length).toBeGreaterThanOrEqual(3);
      expect(ungrouped.every((n) => convLayers.some((l) => l.name === n.node.name))).toBe(true);
      // Each squeeze-excite block is GlobalAveragePool -> Conv -> Conv; the last pool feeds the classifier.
      const pools = model.nodes().filter((n) => n.node.opType === 'GlobalAveragePool').length;
      const sePairs = Math.max(0, pools - 1);
      expect(expectConvChoices(pair, convNodes)).toEqual({ sparse: convLayers.length - 2 * sePairs, pooled: 2 * sePairs });
      // Batch 1 and 3: partial 64-row tiles, tiles across images.
      for (const batch of [1, 3]) {
        const result = await compareRun(pair, { [pair.native.inputs[0].name]: floatFeed([batch, ...image], batch) });
        for (const output of Object.values(result)) expect(output.cosine).toBeGreaterThanOrEqual(0.99999);
      }
    } finally {
      await pair.dispose();
    }
  });
});
