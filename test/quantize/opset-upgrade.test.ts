// Raising the opset rewrites the ops whose signature changed, and the model computes the same.
import * as ort from 'onnxruntime-node';
import { attr, GraphBuilder, type Model } from '../../lib/onnx';
import { quantize } from '../../lib/quantize';
import { GraphScope } from '../../lib/quantize/graph-scope';
import { OpsetUpgradeError, upgradeOpset } from '../../lib/quantize/opset-upgrade';
import { floats, runModel } from './helpers';

/** An opset-9 model using the old (attribute) forms of ops that changed by opset 13. */
function oldModel(): Model {
  const g = new GraphBuilder('old_ops');
  g.input('x', 'float32', [2, 3, 4]);
  const clipped = g.node('Clip', ['x'], 1, { min: attr.float(-0.5), max: attr.float(0.5) });
  const sliced = g.node('Slice', [clipped], 1, { starts: [0, 1], ends: [2, 3], axes: [1, 2] });
  const soft3d = g.node('Softmax', [sliced], 1, { axis: 1 });
  const squeezed = g.node('Squeeze', [g.node('Unsqueeze', [soft3d], 1, { axes: [0] })], 1, { axes: [0] });
  const padded = g.node('Pad', [squeezed], 1, { pads: [0, 0, 1, 0, 0, 1], value: attr.float(0.25) });
  g.node('ReduceSum', [padded], ['reduced'], { axes: [2], keepdims: 1 });
  g.node('Split', ['x'], ['left', 'right'], { axis: 2, split: [1, 3] });
  const flat = g.node('Flatten', ['x'], 1, { axis: 1 });
  g.node('Softmax', [flat], ['soft2d']);
  g.node('Dropout', ['x'], ['dropped'], { ratio: attr.float(0.3) });
  g.node('TopK', [flat], ['top', 'top_indices'], { k: 3 });
  g.node('LogSoftmax', ['x'], ['log_soft'], { axis: 2 });
  for (const [name, dims] of [['reduced', [2, 2, 1]], ['left', [2, 3, 1]], ['right', [2, 3, 3]], ['soft2d', [2, 12]],
    ['dropped', [2, 3, 4]], ['top', [2, 3]], ['log_soft', [2, 3, 4]]] as const) g.output(name, 'float32', [...dims]);
  return g.build({ opset: 9, irVersion: 7 });
}

async function outputs(model: Model): Promise<Record<string, number[]>> {
  const out = await runModel(model, { x: new ort.Tensor('float32', floats(24, 5).map((v) => v * 2), [2, 3, 4]) });
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v.data as Float32Array)]));
}

describe('upgradeOpset', () => {
  it.each([10, 11, 12, 13])('9 -> %p keeps every output', async (target) => {
    const source = oldModel();
    const expected = await outputs(source);
    const model = source.clone();
    const result = upgradeOpset(model, new GraphScope(model), target);
    expect(result).toMatchObject({ from: 9, to: target });
    expect(model.opsetVersion('')).toBe(target);
    const got = await outputs(model);
    for (const [name, values] of Object.entries(expected)) {
      values.forEach((v, i) => expect(got[name][i]).toBeCloseTo(v, 6));
    }
  });

  it('reports which ops it rewrote', () => {
    const model = oldModel();
    const { converted } = upgradeOpset(model, new GraphScope(model), 13);
    expect(converted).toEqual({ Clip: 1, Slice: 1, Pad: 1, TopK: 1, Dropout: 1, Squeeze: 1, Unsqueeze: 1, ReduceSum: 1, Split: 1, Softmax: 2, LogSoftmax: 1 });
    const softmax = model.graph.node.filter((n) => n.opType === 'Softmax');
    expect(softmax).toHaveLength(2);
    expect(model.graph.node.some((n) => n.opType === 'Flatten' && n.output[0].includes('Softmax'))).toBe(true);
  });

  it('is a no-op at or above the target, and refuses what it cannot convert', () => {
    const model = oldModel();
    expect(upgradeOpset(model, new GraphScope(model), 9)).toEqual({ from: 9, to: 9, converted: {} });
    const g = new GraphBuilder();
    g.input('x', 'float32', [1, 3, 4, 4]);
    g.output(g.node('Crop', ['x'], ['y'], { border: [1, 1, 1, 1] }), 'float32');
    const crop = g.build({ opset: 9, validate: false });
    expect(() => upgradeOpset(crop, new GraphScope(crop), 11)).toThrow(OpsetUpgradeError);
    const ancient = oldModel();
    ancient.setOpset('', 6);
    expect(() => upgradeOpset(ancient, new GraphScope(ancient), 11)).toThrow(/older than opset 7/);
  });

  it('quantize raises the opset only as far as its ops need, and says why', async () => {
    const g = new GraphBuilder();
    g.input('x', 'float32', ['n', 8]);
    const w = g.initializer('w', floats(64, 2), [8, 8]);
    g.output(g.node('Clip', [g.node('MatMul', ['x', w])], ['y'], { min: attr.float(0), max: attr.float(6) }), 'float32', ['n', 8]);
    const model = g.build({ opset: 9, irVersion: 4 });
    const dynamic = await quantize(model, { mode: 'dynamic', latencyRuns: 0 });
    expect(dynamic.report.opset).toEqual({ from: 9, to: 11, raised: true, reason: 'DynamicQuantizeLinear needs opset 11', converted: { Clip: 1 } });
    expect(dynamic.model.irVersion).toBe(6);
    expect(dynamic.report.verification?.outputs[0].cosine).toBeGreaterThan(0.999);
    const int4 = await quantize(model, { mode: 'weight-only', bits: 4, blockSize: 16, verify: false });
    expect(int4.report.opset).toMatchObject({ from: 9, to: 9, raised: false });
    const perChannel = await quantize(model, { mode: 'weight-only', bits: 8, latencyRuns: 0 });
    expect(perChannel.report.opset).toMatchObject({ to: 13, reason: 'per-channel DequantizeLinear (axis) needs opset 13' });
    expect(perChannel.report.verification?.outputs[0].cosine).toBeGreaterThan(0.9999);
  });
});
