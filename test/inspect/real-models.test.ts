// inspect and compare on real models that ship inside npm packages.
import * as path from 'path';
import { compareModels } from '../../lib/compare/compare';
import { inspectModel } from '../../lib/inspect/inspect';
import { loadModel, saveModel } from '../../lib/onnx';
import { REAL, realModelsAbsent } from '../helpers/real-models';
import { describeWhen } from '../helpers/skip';
import { makeTempDir, removeDir } from '../helpers/temp';

const { vad: SILERO, cls: OCR_CLS } = REAL;
const CLS_DIMS = { 'p2o.DynamicDimension.0': 2, 'p2o.DynamicDimension.1': 48, 'p2o.DynamicDimension.2': 192 };

let dir: string;
beforeAll(() => {
  dir = makeTempDir();
});
afterAll(() => removeDir(dir));

describeWhen(realModelsAbsent(SILERO, OCR_CLS), 'real models', () => {
  test('silero VAD: If bodies are inspected, parameters include Constant weights', () => {
    const report = inspectModel(loadModel(SILERO));
    expect(report.opCounts.If).toBe(9);
    expect(report.subgraphs.length).toBe(18);
    expect(report.opCounts.LSTM).toBe(8);
    expect(report.inputs.map((i) => i.name)).toEqual(['input', 'sr', 'h', 'c']);
    expect(report.parameters.count).toBeGreaterThan(400_000);
    // Its 36 Convs sit inside If bodies, where no static shapes are stated: each is listed as unknown, none guessed.
    expect(report.macs).toMatchObject({ total: 0, counted: 0, unknown: report.opCounts.Conv });
    expect(report.opCounts.Conv).toBe(36);
  });

  test('PP-OCR classifier: Conv MACs counted once the symbolic dims are given', () => {
    const report = inspectModel(loadModel(OCR_CLS), { dims: CLS_DIMS });
    expect(report.opCounts.Conv).toBeGreaterThan(20);
    expect(report.macs.counted).toBeGreaterThan(20);
    expect(report.macs.total).toBeGreaterThan(10_000_000);
  });

  test('silero VAD against its round trip through external data: identical outputs', async () => {
    const copy = path.join(dir, 'silero.onnx');
    saveModel(loadModel(SILERO), copy, { externalData: { threshold: 256 } });
    const report = await compareModels(SILERO, copy, { values: { sr: 16000 }, dims: { sequence: 512 }, sampleCount: 2, latencyRuns: 3 });
    expect(report.outputs.map((o) => o.name)).toEqual(['output', 'hn', 'cn']);
    // The speech probability is one value: no cosine; hn and cn are identical.
    for (const o of report.outputs) expect(o).toMatchObject({ cosine: o.name === 'output' ? null : 1, maxAbsError: 0, maxRelativeError: 0 });
    expect(report.b.fileBytes).toBeGreaterThan(report.a.fileBytes * 0.9); // external data files are counted
  });

  test('PP-OCR classifier against a perturbed copy: the figures see the change', async () => {
    const model = loadModel(OCR_CLS);
    const conv = model.graph.node.find((n) => n.opType === 'Conv');
    const weightName = conv?.input[1] as string;
    const perturbed = path.join(dir, 'cls-perturbed.onnx');
    const constant = model.graph.node.find((n) => n.output[0] === weightName);
    const tensor = constant?.attribute.find((a) => a.name === 'value')?.t ?? model.initializerProto(weightName);
    const values = model.tensorValues(tensor!) as Float32Array;
    const scaled = Float32Array.from(values, (v) => v * 1.5);
    tensor!.rawData = new Uint8Array(scaled.buffer);
    tensor!.floatData = [];
    saveModel(model, perturbed);
    const report = await compareModels(OCR_CLS, perturbed, { dims: CLS_DIMS, sampleCount: 2, latencyRuns: 0 });
    expect(report.outputs[0].cosine).toBeLessThan(1);
    expect(report.outputs[0].maxAbsError).toBeGreaterThan(0);
    expect(report.outputs[0].top1Agreement).not.toBeNull();
  });
});
