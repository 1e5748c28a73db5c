// Dynamic quantization of recurrent layers: LSTM -> com.microsoft DynamicQuantizeLSTM (int8 W and R),
// GRU kept in float with the reason. Every result runs in onnxruntime.
// Cosine bound 0.999 on the builder LSTM: int8 weights per gate row cost ~0.4% relative error per weight
// and the uint8 activations another ~0.4%; over 8 steps of a 32-unit LSTM the hidden states stay within
// ~1e-3 of float in direction (measured 0.9999+); anything below 0.999 means a gate or layout bug, which
// gives cosines near 0.
import * as ort from 'onnxruntime-node';
import { GraphBuilder, loadModel, serializeModel, type Model } from '../../lib/onnx';
import { quantize } from '../../lib/quantize';
import { sileroFeeds } from '../../bench/quantize-inputs';
import { REAL, realModelsAbsent } from '../helpers/real-models';
import { describeWhen } from '../helpers/skip';
import { cosine, floats, opCounts, runModel } from './helpers';

const SEQ = 8, BATCH = 2, INPUT = 16, HIDDEN = 32;

function recurrentModel(op: 'LSTM' | 'GRU', directions: 1 | 2 = 1): Model {
  const gates = op === 'LSTM' ? 4 : 3;
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', [SEQ, BATCH, INPUT]);
  const scale = (v: Float32Array, s: number) => v.map((x) => x * s);
  const w = g.initializer('W', scale(floats(directions * gates * HIDDEN * INPUT, 3), 0.4), [directions, gates * HIDDEN, INPUT]);
  const r = g.initializer('R', scale(floats(directions * gates * HIDDEN * HIDDEN, 5), 0.3), [directions, gates * HIDDEN, HIDDEN]);
  const b = g.initializer('B', scale(floats(directions * 2 * gates * HIDDEN, 7), 0.1), [directions, 2 * gates * HIDDEN]);
  const outs = op === 'LSTM' ? ['y', 'y_h', 'y_c'] : ['y', 'y_h'];
  g.node(op, [x, w, r, b], outs, { hidden_size: HIDDEN, direction: directions === 2 ? 'bidirectional' : 'forward' });
  g.output('y', 'float32', [SEQ, directions, BATCH, HIDDEN]);
  g.output('y_h', 'float32', [directions, BATCH, HIDDEN]);
  return g.build({ opset: 17 });
}

const feeds = () => ({ x: new ort.Tensor('float32', floats(SEQ * BATCH * INPUT, 11).map((v) => v * 2), [SEQ, BATCH, INPUT]) });

describe('dynamic quantization of recurrent layers', () => {
  it.each([[1, true], [2, true], [1, false]] as const)('LSTM (%i direction(s), per-channel %s) becomes DynamicQuantizeLSTM that onnxruntime runs within cosine 0.999 of float', async (directions, perChannel) => {
    const source = recurrentModel('LSTM', directions);
    const { model, report } = await quantize(source, { mode: 'dynamic', perChannel, verify: false });
    expect(opCounts(model)).toEqual({ DynamicQuantizeLSTM: 1 });
    expect(report.quantized.map((q) => q.opType)).toEqual(['LSTM']);
    expect(report.domainsAdded).toEqual(['com.microsoft']);
    // int8 weights: the model shrinks to about a quarter (plus float bias and scales).
    expect(report.size.ratio).toBeLessThan(0.35);
    const [expected, actual] = [await runModel(source, feeds()), await runModel(model, feeds())];
    for (const name of ['y', 'y_h']) {
      expect(actual[name].dims).toEqual(expected[name].dims);
      expect(cosine(expected[name].data as Float32Array, actual[name].data as Float32Array)).toBeGreaterThan(0.999);
    }
  });

  it('GRU stays float, and the report says onnxruntime has no quantized GRU', async () => {
    const { model, report } = await quantize(recurrentModel('GRU'), { mode: 'dynamic', verify: false });
    expect(opCounts(model)).toEqual({ GRU: 1 });
    expect(report.quantized).toEqual([]);
    expect(report.skipped).toEqual([expect.objectContaining({ opType: 'GRU', detail: expect.stringMatching(/no quantized GRU kernel/) })]);
  });

  it('the reason holds: this onnxruntime registers DynamicQuantizeLSTM but no DynamicQuantizeGRU', async () => {
    const session = (op: string) => {
      const g = new GraphBuilder();
      g.node(op, [g.input('x', 'float32', [SEQ, BATCH, INPUT])], ['y'], { hidden_size: HIDDEN }, 'com.microsoft');
      g.output('y', 'float32');
      return ort.InferenceSession.create(serializeModel(g.build({ validate: false })));
    };
    await expect(session('DynamicQuantizeGRU')).rejects.toThrow(/DynamicQuantizeGRU\(-1\) is not a registered function\/op/);
    // The LSTM op exists: it fails on its missing inputs, not as unknown.
    await expect(session('DynamicQuantizeLSTM')).rejects.not.toThrow(/not a registered function/);
  });

  it('--op-types MatMul leaves an LSTM alone (it is quantized only when selected)', async () => {
    const { model } = await quantize(recurrentModel('LSTM'), { mode: 'dynamic', opTypes: ['MatMul'], verify: false });
    expect(opCounts(model)).toEqual({ LSTM: 1 });
  });
});

describeWhen(realModelsAbsent(REAL.vad), 'silero VAD LSTMs', () => {
  it('all 8 LSTMs (both sample-rate branches) become DynamicQuantizeLSTM; the speech probability stays within 0.05 and the states within cosine 0.99', async () => {
    const speech = Array.from({ length: 3 }, (_, i) => sileroFeeds(i));
    const { model, report } = await quantize(loadModel(REAL.vad), { mode: 'dynamic', opTypes: ['LSTM'], calibration: speech, latencyRuns: 0 });
    // Silero ships 8 LSTM nodes (one pair per sample-rate branch and state case); all are rewritten.
    expect(report.quantized.filter((q) => q.opType === 'LSTM')).toHaveLength(8);
    expect(opCounts(model).LSTM).toBeUndefined();
    expect(opCounts(model).DynamicQuantizeLSTM).toBe(8);
    const [probability, hn, cn] = report.verification?.outputs ?? [];
    expect(probability.maxAbsError).toBeLessThan(0.05);
    expect(hn.cosine).toBeGreaterThan(0.99);
    expect(cn.cosine).toBeGreaterThan(0.99);
  });
});
