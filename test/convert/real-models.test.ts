// convertFloat on real models shipped in npm packages: silero VAD (If subgraphs, LSTM) and the
// PaddleOCR detector, recognizer and classifier. float16 must stay within cosine 0.999 of float32.
import { allTensors, DataType, describeValueInfo, loadModel, serializeModel, validateModel } from '../../lib/onnx';
import { convertFloat } from '../../lib/convert';
import { REAL, realModelsAbsent } from '../helpers/real-models';
import { describeWhen, testWhen } from '../helpers/skip';
import { compareInMemory, minCosine, realSamples, redundantCasts } from './helpers';

describeWhen(realModelsAbsent(...Object.values(REAL)), 'float16 on real models', () => describe.each(Object.keys(REAL) as (keyof typeof REAL)[])('%s', (name) => {
  test('float16 with keep-io-types: half the size, cosine >= 0.999, no redundant Casts', async () => {
    const source = loadModel(REAL[name]);
    const { model, report } = convertFloat(source, { keepIoTypes: true });
    validateModel(model);
    const ratio = serializeModel(model).byteLength / serializeModel(source).byteLength;
    expect(ratio).toBeLessThan(0.6);
    expect(report.tensorsConverted).toBe(allTensors(model.proto).filter((t) => t.dataType === DataType.FLOAT16).length);
    expect(redundantCasts(model)).toEqual([]);
    const compare = await compareInMemory(source, model, realSamples(name));
    expect(minCosine(compare)).toBeGreaterThanOrEqual(0.999);
  });
}));

testWhen(realModelsAbsent(REAL.vad), 'silero VAD: every If body is converted and its outputs are float16', () => {
  const { model } = convertFloat(loadModel(REAL.vad));
  const bodies = model.graphs().slice(1);
  expect(bodies.length).toBeGreaterThan(10);
  const types = bodies.flatMap((g) => g.graph.output.map((o) => describeValueInfo(o).dtype));
  expect(new Set(types)).toEqual(new Set(['float16']));
  expect(model.inputs.map((i) => i.dtype)).toEqual(['float16', 'int64', 'float16', 'float16']);
});
