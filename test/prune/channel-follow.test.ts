import { buildMlp, GraphBuilder, randomNormal, type Model } from '../../lib/onnx';
import { pruneModel } from '../../lib/prune';
import { columnNorms, dims, expectClose, floatInput, runModel, topIndices, weight } from './helpers';

const [K, C, O] = [4, 8, 3];

/** x [2, K] -> MatMul + bias (C channels) -> a normalization over the channels -> MatMul -> y [2, O]. */
function normalizedMlp(normalize: (g: GraphBuilder, h: string, gamma: string, beta: string) => string, opset = 21): Model {
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', [2, K]);
  const h = g.node('Add', [g.node('MatMul', [x, g.initializer('w1', randomNormal(K * C, 1), [K, C])]), g.initializer('b1', randomNormal(C, 2), [C])]);
  const n = normalize(g, h, g.initializer('gamma', randomNormal(C, 3), [C]), g.initializer('beta', randomNormal(C, 4), [C]));
  g.node('MatMul', [n, g.initializer('w2', randomNormal(C * O, 5), [C, O])], ['y']);
  g.output('y', 'float32', [2, O]);
  return g.build({ opset });
}

/** The same network computed by hand over the kept channels only (LayerNorm statistics over those channels). */
function reference(model: Model, x: Float32Array, keep: number[]): number[] {
  const [w1, b1, gamma, beta, w2] = ['w1', 'b1', 'gamma', 'beta', 'w2'].map((n) => weight(model, n));
  const out: number[] = [];
  for (let row = 0; row < 2; row++) {
    const h = keep.map((j) => b1[j] + Array.from({ length: K }, (_, i) => x[row * K + i] * w1[i * C + j]).reduce((a, b) => a + b));
    const mean = h.reduce((a, b) => a + b) / h.length;
    const variance = h.reduce((a, v) => a + (v - mean) ** 2, 0) / h.length;
    const n = h.map((v, jj) => ((v - mean) / Math.sqrt(variance + 1e-5)) * gamma[keep[jj]] + beta[keep[jj]]);
    for (let o = 0; o < O; o++) out.push(n.reduce((s, v, jj) => s + v * w2[keep[jj] * O + o], 0));
  }
  return out;
}

async function expectNormalizedPruning(original: Model, followed: string[]): Promise<void> {
  const { model, report } = pruneModel(original, { pattern: 'channel', sparsity: 0.5, minParams: 0 });
  expect(report.channels).toHaveLength(1);
  expect(report.channels[0]).toMatchObject({ channels: { before: C, after: C / 2 }, statisticsChanged: true, followed });
  expect(report.notes.some((n) => /statistics differ/.test(n))).toBe(true);
  for (const n of ['gamma', 'beta', 'b1']) expect(dims(model, n)).toEqual([C / 2]);
  expect(dims(model, 'w2')).toEqual([C / 2, O]);
  const keep = topIndices(columnNorms(weight(original, 'w1'), K, C), C / 2);
  const x = floatInput([2, K], 8);
  expectClose((await runModel(model, { x })).y.data as Float32Array, reference(original, x.data as Float32Array, keep), 1e-5);
}

describe('following channels through normalizations', () => {
  test('LayerNormalization: scale and bias lose the channels; the statistics are over the kept ones', async () => {
    const model = normalizedMlp((g, h, gamma, beta) => g.node('LayerNormalization', [h, gamma, beta], 1, { axis: -1, epsilon: 1e-5 }));
    await expectNormalizedPruning(model, ['Add', 'LayerNormalization']);
  });

  test('LayerNorm exported decomposed (ReduceMean/Sub/Pow/Sqrt/Div/Mul/Add), with axes as an input or an attribute', async () => {
    for (const opset of [21, 13]) {
      const model = normalizedMlp((g, h, gamma, beta) => {
        let count = 0;
        const constant = (name: string, data: Float32Array | BigInt64Array, shape: number[]): string => g.initializer(`${name}_${count++}`, data, shape);
        const mean = (v: string): string => opset >= 18
          ? g.node('ReduceMean', [v, constant('axes', new BigInt64Array([-1n]), [1])], 1, { keepdims: 1 })
          : g.node('ReduceMean', [v], 1, { axes: [-1], keepdims: 1 });
        const d = g.node('Sub', [h, mean(h)]);
        const variance = mean(g.node('Pow', [d, constant('two', new Float32Array([2]), [])]));
        const std = g.node('Sqrt', [g.node('Add', [variance, constant('eps', new Float32Array([1e-5]), [])])]);
        return g.node('Add', [g.node('Mul', [g.node('Div', [d, std]), gamma]), beta]);
      }, opset);
      await expectNormalizedPruning(model, ['Add', 'ReduceMean', 'Sub', 'Pow', 'Sqrt', 'Div', 'Mul']);
    }
  });
});

describe('channels that cannot be followed are left alone and reported', () => {
  function branchModel(tail: (g: GraphBuilder, h: string) => void): Model {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', [2, K]);
    tail(g, g.node('Relu', [g.node('MatMul', [x, g.initializer('w1', randomNormal(K * C, 1), [K, C])], ['h'])]));
    return g.build();
  }

  test.each([
    ['Concat', (g: GraphBuilder, h: string) => {
      g.node('Concat', [h, h], ['y'], { axis: -1 });
      g.output('y', 'float32', [2, 2 * C]);
    }, /channels reach Concat "Concat_node_\d+", which it cannot follow/],
    ['Reshape', (g: GraphBuilder, h: string) => {
      g.node('Reshape', [h, g.initializer('shape', new BigInt64Array([2n, 2n, BigInt(C / 2)]), [3])], ['y']);
      g.output('y', 'float32', [2, 2, C / 2]);
    }, /channels reach Reshape/],
    ['graph output', (g: GraphBuilder, h: string) => g.output(h, 'float32', [2, C]), /"Relu_\d+" is a graph output/],
    ['Softmax over the channels', (g: GraphBuilder, h: string) => {
      g.node('Softmax', [h], ['y'], { axis: -1 });
      g.output('y', 'float32', [2, C]);
    }, /channels reach Softmax/],
    ['an add with a graph input', (g: GraphBuilder, h: string) => {
      g.node('Add', [h, g.input('skip', 'float32', [2, C])], ['y']);
      g.output('y', 'float32', [2, C]);
    }, /combines the channels with "skip", which carries channels of its own/],
  ])('%s', (_label, tail, reason) => {
    const original = branchModel(tail);
    const { model, report } = pruneModel(original, { pattern: 'channel', sparsity: 0.5, minParams: 0 });
    expect(report.channels).toEqual([]);
    expect(report.skipped).toHaveLength(1);
    expect(report.skipped[0]).toMatchObject({ kind: 'unfollowable', reason: expect.stringMatching(reason) });
    expect(dims(model, 'w1')).toEqual([K, C]);
  });

  test('layers whose outputs cannot lose channels at all are listed with the reason', () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', [1, 4, 6, 6]);
    g.node('Conv', [x, g.initializer('grouped', randomNormal(8 * 2 * 9, 1), [8, 2, 3, 3])], ['y'], { group: 2 });
    g.node('MatMul', [g.input('a', 'float32', [3, 2, 5]), g.initializer('batched', randomNormal(3 * 5 * 4, 2), [3, 5, 4])], ['z']);
    g.output('y', 'float32', [1, 8, 4, 4]);
    g.output('z', 'float32', [3, 2, 4]);
    const { report } = pruneModel(g.build(), { pattern: 'channel', sparsity: 0.5, minParams: 0 });
    expect(report.skipped.map((s) => [s.kind, s.reason])).toEqual([
      ['unsupported', 'grouped convolution (group 2) not fed by prunable channels'],
      ['unsupported', 'its weight [3, 5, 4] is a batch of matrices'],
    ]);
  });

  test('an add with an input that broadcasts over the channels is followed', () => {
    const original = branchModel((g, h) => {
      g.node('MatMul', [g.node('Add', [h, g.input('shift', 'float32', [2, 1])]), g.initializer('w2', randomNormal(C * O, 2), [C, O])], ['y']);
      g.output('y', 'float32', [2, O]);
    });
    expect(pruneModel(original, { pattern: 'channel', sparsity: 0.5, minParams: 0 }).report.channels).toHaveLength(1);
  });
});

describe('how many channels are kept', () => {
  const mlp = buildMlp({ inputSize: 8, hidden: [10, 24], outputSize: 4 });

  test('roundTo rounds the kept count up to a multiple', () => {
    const { report } = pruneModel(mlp, { pattern: 'channel', sparsity: 0.5, minParams: 0, roundTo: 4 });
    expect(report.channels.map((g) => g.channels)).toEqual([{ before: 10, after: 8 }, { before: 24, after: 12 }]);
  });

  test('per-layer overrides, and a global ranking that removes the asked fraction of all channels', () => {
    const fc1 = mlp.consumers('fc1.weight')[0].node.name;
    const perLayer = pruneModel(mlp, { pattern: 'channel', sparsity: 0.5, minParams: 0, layers: { 'fc1.weight': 0.25 } }).report;
    expect(perLayer.channels.map((g) => g.channels.after)).toEqual([5, 18]);
    const global = pruneModel(mlp, { pattern: 'channel', sparsity: 0.5, minParams: 0, scope: 'global' }).report;
    expect(global.channels.reduce((sum, g) => sum + g.channels.after, 0)).toBe(17);
    expect(global.channels.every((g) => g.channels.after >= 1)).toBe(true);
    const excluded = pruneModel(mlp, { pattern: 'channel', sparsity: 0.5, minParams: 0, exclude: [fc1] }).report;
    expect(excluded.channels.map((g) => g.channels)).toEqual([{ before: 10, after: 5 }]);
    expect(excluded.skipped).toContainEqual({ layers: [fc1], kind: 'excluded', reason: 'excluded' });
  });
});
