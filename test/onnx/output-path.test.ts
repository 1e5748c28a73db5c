// Passes that read one model file and write another refuse to write over the one they read, by any
// path to it, before they write anything.
import * as fs from 'fs';
import * as path from 'path';
import { convertFile, exportWeights, optimizeModel } from '../../lib/convert';
import { assertNotInput, buildMlp, loadModel, ModelSaveError, saveModel } from '../../lib/onnx';
import { pruneFile } from '../../lib/prune';
import { quantizeFile } from '../../lib/quantize';
import { makeTempDir, removeDir } from '../helpers/temp';

let dir: string;
let model: string;
let link: string;
beforeAll(() => {
  dir = makeTempDir();
  model = path.join(dir, 'model.onnx');
  saveModel(buildMlp({ inputSize: 8, hidden: [8], outputSize: 2 }), model);
  link = path.join(dir, 'link.onnx');
  fs.linkSync(model, link);
});
afterAll(() => removeDir(dir));

test('assertNotInput: the same path, a relative spelling of it, or a hard link to it', () => {
  expect(() => assertNotInput(model, path.join(dir, '.', 'model.onnx'))).toThrow(ModelSaveError);
  expect(() => assertNotInput(model, path.relative(process.cwd(), model))).toThrow(/refusing to write over the input model/);
  expect(() => assertNotInput(model, link)).toThrow(/refusing to write over the input model/);
  expect(() => assertNotInput(model, path.join(dir, 'other.onnx'))).not.toThrow();
});

test.each([
  ['pruneFile', () => pruneFile(model, link, { pattern: 'unstructured', sparsity: 0.5, compare: false })],
  ['quantizeFile', () => quantizeFile(model, link, { mode: 'dynamic', verify: false })],
  ['convertFile', () => convertFile(model, link, { layout: 'inline' })],
  ['optimizeModel', () => optimizeModel(model, link, { level: 'basic' })],
  ['exportWeights', async () => exportWeights(loadModel(model), link)],
])('%s refuses and leaves the input as it was', async (_name, run) => {
  const before = fs.readFileSync(model);
  await expect(run()).rejects.toThrow(/refusing to write over the input model/);
  expect(fs.readFileSync(model).equals(before)).toBe(true);
  expect(fs.readdirSync(dir).sort()).toEqual(['link.onnx', 'model.onnx']);
});
