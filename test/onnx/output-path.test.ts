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

// The files a model reads include its external data: an output that lands on one of them, by any
// path, would leave the input model pointing at bytes that are no longer its weights.
describe('an input model with external data', () => {
  let edir: string;
  let ext: string;
  let extData: string;
  let before: Buffer;
  const listing = () => fs.readdirSync(edir).sort();
  beforeEach(() => {
    edir = makeTempDir();
    ext = path.join(edir, 'ext.onnx');
    extData = `${ext}.data`;
    saveModel(buildMlp({ inputSize: 8, hidden: [16], outputSize: 2, seed: 3 }), ext, { externalData: { threshold: 64 } });
    before = fs.readFileSync(extData);
  });
  afterEach(() => removeDir(edir));

  function expectInputIntact(files: string[]): void {
    expect(listing()).toEqual(files.sort());
    expect(fs.readFileSync(extData).equals(before)).toBe(true);
    expect(loadModel(ext).initializer('fc0.weight')!.data).toEqual(buildMlp({ inputSize: 8, hidden: [16], outputSize: 2, seed: 3 }).initializer('fc0.weight')!.data);
  }

  test('saveModel refuses to write the model over its own data file, naming both', () => {
    const model = loadModel(ext);
    expect(() => saveModel(model, extData)).toThrow(/refusing to write over the input model's file .*ext\.onnx\.data; choose another output path/);
    expectInputIntact(['ext.onnx', 'ext.onnx.data']);
  });

  test('through a symlink to the data file, or a symlinked folder', () => {
    fs.symlinkSync(extData, path.join(edir, 'alias.onnx'));
    fs.symlinkSync(edir, path.join(edir, 'same-folder'));
    const model = loadModel(ext);
    expect(() => saveModel(model, path.join(edir, 'alias.onnx'))).toThrow(/input model's file .*ext\.onnx\.data \(the output .*alias\.onnx is the same file\)/);
    expect(() => saveModel(model, path.join(edir, 'same-folder', 'ext.onnx.data'))).toThrow(/refusing to write over the input model's file/);
    expectInputIntact(['alias.onnx', 'ext.onnx', 'ext.onnx.data', 'same-folder']);
  });

  test('a data file the save would write is checked too, before anything is written', () => {
    const other = path.join(edir, 'other.onnx');
    expect(() => saveModel(loadModel(ext), other, { externalData: { threshold: 64, location: 'ext.onnx.data' } }))
      .toThrow(/refusing to write over the input model's file .*ext\.onnx\.data/);
    expectInputIntact(['ext.onnx', 'ext.onnx.data']);
  });

  test('saving a loaded model back to its own path still replaces it, data and all', () => {
    const model = loadModel(ext);
    saveModel(model, ext, { externalData: { threshold: 64, alignment: 64 } });
    expect(fs.readFileSync(extData).equals(before)).toBe(false);
    expect(loadModel(ext).initializer('fc0.weight')!.data).toEqual(model.initializer('fc0.weight')!.data);
  });

  test.each([
    ['quantizeFile', (out: string) => quantizeFile(ext, out, { mode: 'dynamic', verify: false })],
    ['pruneFile', (out: string) => pruneFile(ext, out, { pattern: 'unstructured', sparsity: 0.5, compare: false })],
    ['convertFile', (out: string) => convertFile(ext, out, { layout: 'external' })],
    ['optimizeModel', (out: string) => optimizeModel(ext, out, { level: 'basic' })],
    ['exportWeights', async (out: string) => exportWeights(loadModel(ext), out)],
  ])('%s refuses an output on the input\'s data file and leaves the input as it was', async (_name, run) => {
    await expect(run(extData)).rejects.toThrow(/refusing to write over the input model's file .*ext\.onnx\.data/);
    expectInputIntact(['ext.onnx', 'ext.onnx.data']);
  });

  test('quantizeFile refuses when the output\'s own data file would land on the input\'s', async () => {
    // The input reads "weights.onnx.data"; an output named weights.onnx writes its data there.
    const input = path.join(edir, 'in.onnx');
    saveModel(loadModel(ext), input, { externalData: { threshold: 64, location: 'weights.onnx.data' } });
    const data = fs.readFileSync(path.join(edir, 'weights.onnx.data'));
    await expect(quantizeFile(input, path.join(edir, 'weights.onnx'), { mode: 'weight-only', verify: false, externalData: { threshold: 64 } }))
      .rejects.toThrow(/refusing to write over the input model's file .*weights\.onnx\.data/);
    expect(fs.readFileSync(path.join(edir, 'weights.onnx.data')).equals(data)).toBe(true);
    expect(listing()).toEqual(['ext.onnx', 'ext.onnx.data', 'in.onnx', 'weights.onnx.data']);
  });
});
