import { buildConvNet, buildMlp, buildTransformerBlock, GraphBuilder, randomNormal, type Model } from '../../lib/onnx';
import { pruneModel } from '../../lib/prune';
import {
  columnNorms, dims, expectClose, floatInput, keptColumns, removed, runModel, topIndices, weight, withZeroed,
} from './helpers';

const nodeOf = (model: Model, weightName: string): string => model.consumers(weightName)[0].node.name;

describe('channel pruning', () => {
  test('MLP: hidden units ranked by norm are removed; the output matches a reference computed by hand', async () => {
    const mlp = buildMlp({ inputSize: 4, hidden: [6], outputSize: 3, batch: 2 });
    const { model, report } = pruneModel(mlp, { pattern: 'channel', sparsity: 0.5, minParams: 0 });
    expect(dims(model, 'fc0.weight')).toEqual([4, 3]);
    expect(dims(model, 'fc0.bias')).toEqual([3]);
    expect(dims(model, 'fc1.weight')).toEqual([3, 3]);
    const [w1, b1, w2, b2] = ['fc0.weight', 'fc0.bias', 'fc1.weight', 'fc1.bias'].map((n) => weight(mlp, n));
    const keep = topIndices(columnNorms(w1, 4, 6), 3);
    expect(keptColumns(w1, weight(model, 'fc0.weight'), 4, 6)).toEqual(keep);

    const x = floatInput([2, 4], 7);
    const xs = x.data as Float32Array;
    const expected: number[] = [];
    for (let row = 0; row < 2; row++) {
      const h = keep.map((j) => Math.max(0, b1[j] + [0, 1, 2, 3].reduce((s, i) => s + xs[row * 4 + i] * w1[i * 6 + j], 0)));
      for (let o = 0; o < 3; o++) expected.push(b2[o] + keep.reduce((s, j, jj) => s + h[jj] * w2[j * 3 + o], 0));
    }
    expectClose((await runModel(model, { input: x })).output.data as Float32Array, expected, 1e-5);

    expect(report.channels).toEqual([{
      layers: [nodeOf(mlp, 'fc0.weight')], channels: { before: 6, after: 3 }, parameters: { before: 24 + 6 + 18, after: 12 + 3 + 9 },
      consumers: [nodeOf(mlp, 'fc1.weight')], followed: ['Add', 'Relu'], statisticsChanged: false,
    }]);
    expect(report.skipped).toEqual([{ layers: [nodeOf(mlp, 'fc1.weight')], kind: 'unfollowable', reason: 'channels cannot be followed: "output" is a graph output' }]);
    expect(report.parameters).toMatchObject({ before: 24 + 6 + 18 + 3, after: 12 + 3 + 9 + 3 });
    expect(dims(mlp, 'fc0.weight')).toEqual([4, 6]);
  });

  test('stated shapes of the pruned activations follow the new channel count', async () => {
    const mlp = buildMlp({ inputSize: 4, hidden: [6], outputSize: 3, batch: 'batch' });
    const relu = mlp.graph.node.find((n) => n.opType === 'Relu')!.output[0];
    mlp.setValueInfo(relu, 'float32', ['batch', 6]);
    const { model } = pruneModel(mlp, { pattern: 'channel', sparsity: 0.5, minParams: 0 });
    expect(model.valueInfo(relu)?.dims).toEqual(['batch', 3]);
    expect(mlp.valueInfo(relu)?.dims).toEqual(['batch', 6]);
    expect((await runModel(model, { input: floatInput([2, 4], 1) })).output.dims).toEqual([2, 3]);
  });

  test('transformer block: only the MLP can be followed; the result equals the original with the dropped units zeroed', async () => {
    const [seq, hidden, heads, ffn] = [8, 32, 4, 64];
    const block = buildTransformerBlock({ seq, hidden, heads, ffn });
    const { model, report } = pruneModel(block, { pattern: 'channel', sparsity: 0.5, minParams: 0 });
    expect(dims(model, 'ffn.up.weight')).toEqual([hidden, ffn / 2]);
    expect(dims(model, 'ffn.up.bias')).toEqual([ffn / 2]);
    expect(dims(model, 'ffn.down.weight')).toEqual([ffn / 2, hidden]);
    expect(report.channels.map((g) => g.followed)).toEqual([['Add', 'Div', 'Erf', 'Mul']]);
    const reasons = report.skipped.map((s) => s.reason);
    expect(reasons.filter((r) => /Reshape/.test(r))).toHaveLength(3);
    expect(reasons.filter((r) => /residual or other branch/.test(r))).toHaveLength(2);

    const keep = keptColumns(weight(block, 'ffn.up.weight'), weight(model, 'ffn.up.weight'), hidden, ffn);
    expect(keep).toEqual(topIndices(columnNorms(weight(block, 'ffn.up.weight'), hidden, ffn), ffn / 2));
    const reference = withZeroed(block, 'ffn.down.weight', 0, removed(ffn, keep));
    const x = { input: floatInput([1, seq, hidden], 3) };
    expectClose((await runModel(model, x)).output.data as Float32Array, (await runModel(reference, x)).output.data as Float32Array);
  });

  test('conv net: filters, the next conv\'s input channels and the Gemm after pooling and Flatten shrink together', async () => {
    const net = buildConvNet({ channels: 3, size: 8, classes: 5, widths: [8, 16] });
    const { model, report } = pruneModel(net, { pattern: 'channel', sparsity: 0.5, minParams: 0 });
    expect(dims(model, 'conv0.weight')).toEqual([4, 3, 3, 3]);
    expect(dims(model, 'conv1.weight')).toEqual([8, 4, 3, 3]);
    expect(dims(model, 'fc.weight')).toEqual([5, 8]);
    expect(report.channels[1].followed).toEqual(['Relu', 'MaxPool', 'GlobalAveragePool', 'Flatten']);
    // Filters are rows of a Conv weight: keptColumns on the transposed view is keptRows.
    const rows = (name: string, m: Model, n: number, size: number): number[] => {
      const w = weight(m, name);
      const kept = w.length / size;
      return Array.from({ length: kept }, (_, j) => Array.from({ length: n }, (_, c) => c)
        .find((c) => weight(net, name).subarray(c * size, (c + 1) * size).every((v, i) => v === w[j * size + i])) as number);
    };
    const keep0 = rows('conv0.weight', model, 8, 27);
    expect(keep0).toEqual(topIndices(Array.from({ length: 8 }, (_, c) => Math.hypot(...weight(net, 'conv0.weight').subarray(c * 27, (c + 1) * 27))), 4));
    const keep1 = topIndices(Array.from({ length: 16 }, (_, c) => Math.hypot(...weight(net, 'conv1.weight').subarray(c * 72, (c + 1) * 72))), 8);
    const reference = withZeroed(withZeroed(net, 'conv1.weight', 1, removed(8, keep0)), 'fc.weight', 1, removed(16, keep1));
    const x = { input: floatInput([1, 3, 8, 8], 4) };
    expectClose((await runModel(model, x)).output.data as Float32Array, (await runModel(reference, x)).output.data as Float32Array);
  });

  test('BatchNormalization, Clip and a depthwise Conv are followed; the depthwise group shrinks with the channels', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', [1, 4, 8, 8]);
    const c = 8;
    const conv0 = g.node('Conv', [x, g.initializer('w0', randomNormal(c * 4 * 9, 1, 0.3), [c, 4, 3, 3]), g.initializer('b0', randomNormal(c, 2), [c])], 1, { pads: [1, 1, 1, 1] });
    const bn = g.node('BatchNormalization', [conv0,
      g.initializer('bn.scale', randomNormal(c, 3), [c]), g.initializer('bn.bias', randomNormal(c, 4), [c]),
      g.initializer('bn.mean', randomNormal(c, 5, 0.1), [c]), g.initializer('bn.var', new Float32Array(c).fill(1.5), [c])]);
    const clip = g.node('Clip', [bn, g.initializer('zero', new Float32Array([0]), []), g.initializer('six', new Float32Array([6]), [])]);
    const dw = g.node('Conv', [clip, g.initializer('w1', randomNormal(c * 9, 6), [c, 1, 3, 3]), g.initializer('b1', randomNormal(c, 7), [c])], 1, { pads: [1, 1, 1, 1], group: c });
    g.node('Conv', [g.node('Relu', [dw]), g.initializer('w2', randomNormal(6 * c, 8), [6, c, 1, 1])], ['y']);
    g.output('y', 'float32', [1, 6, 8, 8]);
    const original = g.build();
    const { model, report } = pruneModel(original, { pattern: 'channel', sparsity: 0.5, minParams: 0 });
    expect(report.channels).toHaveLength(1);
    expect(report.channels[0]).toMatchObject({ channels: { before: 8, after: 4 }, followed: ['BatchNormalization', 'Clip', 'Conv (depthwise)', 'Relu'] });
    for (const n of ['b0', 'bn.scale', 'bn.bias', 'bn.mean', 'bn.var', 'b1']) expect(dims(model, n)).toEqual([4]);
    expect(dims(model, 'w1')).toEqual([4, 1, 3, 3]);
    expect(dims(model, 'w2')).toEqual([6, 4, 1, 1]);
    expect(model.graph.node.find((n) => n.input.includes('w1'))!.attribute.find((a) => a.name === 'group')!.i).toBe(4n);
    const norms = Array.from({ length: c }, (_, k) => Math.hypot(...weight(original, 'w0').subarray(k * 36, (k + 1) * 36)));
    const reference = withZeroed(original, 'w2', 1, removed(c, topIndices(norms, 4)));
    const feeds = { x: floatInput([1, 4, 8, 8], 9) };
    expectClose((await runModel(model, feeds)).y.data as Float32Array, (await runModel(reference, feeds)).y.data as Float32Array);
  });

  test('Gemm with transB feeding a Gemm without: rows of the first B and its bias, rows of the second B', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', [3, 6]);
    const h = g.node('Relu', [g.node('Gemm', [x, g.initializer('b_t', randomNormal(10 * 6, 1), [10, 6]), g.initializer('c1', randomNormal(10, 2), [10])], 1, { transB: 1 })]);
    g.node('Gemm', [h, g.initializer('b_n', randomNormal(10 * 4, 3), [10, 4]), g.initializer('c2', randomNormal(4, 4), [4])], ['y']);
    g.output('y', 'float32', [3, 4]);
    const original = g.build();
    const { model } = pruneModel(original, { pattern: 'channel', sparsity: 0.3, minParams: 0 });
    expect([dims(model, 'b_t'), dims(model, 'c1'), dims(model, 'b_n')]).toEqual([[7, 6], [7], [7, 4]]);
    const w = weight(original, 'b_t');
    const keep = topIndices(Array.from({ length: 10 }, (_, r) => Math.hypot(...w.subarray(r * 6, r * 6 + 6))), 7);
    const reference = withZeroed(original, 'b_n', 0, removed(10, keep));
    const feeds = { x: floatInput([3, 6], 5) };
    expectClose((await runModel(model, feeds)).y.data as Float32Array, (await runModel(reference, feeds)).y.data as Float32Array);
  });

  test('a residual add between two layers couples them: both lose the same channels', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', [2, 5]);
    const r = g.node('Relu', [g.node('Add', [g.node('MatMul', [x, g.initializer('w1', randomNormal(30, 1), [5, 6])]), g.initializer('b1', randomNormal(6, 2), [6])])]);
    const y2 = g.node('Add', [g.node('MatMul', [r, g.initializer('w2', randomNormal(36, 3), [6, 6])]), g.initializer('b2', randomNormal(6, 4), [6])]);
    g.node('MatMul', [g.node('Add', [r, y2]), g.initializer('w3', randomNormal(12, 5), [6, 2])], ['y']);
    g.output('y', 'float32', [2, 2]);
    const original = g.build();
    const { model, report } = pruneModel(original, { pattern: 'channel', sparsity: 0.5, minParams: 0 });
    expect(report.channels).toHaveLength(1);
    expect(report.channels[0].layers).toHaveLength(2);
    expect(report.channels[0].channels).toEqual({ before: 6, after: 3 });
    expect(dims(model, 'w2')).toEqual([3, 3]);
    const keep = keptColumns(weight(original, 'w1'), weight(model, 'w1'), 5, 6);
    expect(keptColumns(weight(original, 'w2').filter((_, i) => keep.includes(Math.floor(i / 6))), weight(model, 'w2'), 3, 6)).toEqual(keep);
    const reference = withZeroed(withZeroed(original, 'w2', 0, removed(6, keep)), 'w3', 0, removed(6, keep));
    const feeds = { x: floatInput([2, 5], 6) };
    expectClose((await runModel(model, feeds)).y.data as Float32Array, (await runModel(reference, feeds)).y.data as Float32Array);
  });
});
