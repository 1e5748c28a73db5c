// Weights through safetensors: export, replace by name (with a map), and clear errors on mismatches.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { applyWeights, exportWeights, SafetensorsFile, writeSafetensors } from '../../lib/convert';
import { buildMlp, loadModel, serializeModel } from '../../lib/onnx';
import { makeTempDir, removeDir } from '../helpers/temp';
import { REAL, realModelsAbsent } from '../helpers/real-models';
import { testWhen } from '../helpers/skip';

let dir: string;
beforeEach(() => { dir = makeTempDir('onnxforge-weights-'); });
afterEach(() => removeDir(dir));

const mlp = (seed: number) => buildMlp({ inputSize: 4, hidden: [8], outputSize: 3, seed });
const f32bytes = (values: Float32Array) => new Uint8Array(values.buffer, values.byteOffset, values.byteLength);

test('export then apply moves one model\'s weights into another', () => {
  const file = path.join(dir, 'w.safetensors');
  const report = exportWeights(mlp(1), file);
  expect(report).toMatchObject({ tensors: 4, skipped: [] });
  expect(fs.statSync(file).size).toBe(report.bytes);
  const { model, report: applied } = applyWeights(mlp(2), file);
  expect(applied).toMatchObject({ tensorsInFile: 4, replaced: 4, ignored: 0, initializersUntouched: 0 });
  expect(Buffer.from(serializeModel(model)).equals(Buffer.from(serializeModel(mlp(1))))).toBe(true);
});

test('a map renames file tensors and null ignores them; the source model is untouched', () => {
  const file = path.join(dir, 'torch.safetensors');
  const weight = Float32Array.from({ length: 32 }, (_, i) => i / 10);
  writeSafetensors(file, [
    { name: 'layers.0.weight', dtype: 'float32', dims: [4, 8], bytes: () => f32bytes(weight) },
    { name: 'optimizer.step', dtype: 'int64', dims: [], bytes: () => new Uint8Array(8) },
  ]);
  const source = mlp(3);
  const before = serializeModel(source);
  const { model, report } = applyWeights(source, file, { map: { 'layers.0.weight': 'fc0.weight', 'optimizer.step': null } });
  expect(report).toMatchObject({ replaced: 1, ignored: 1, initializersUntouched: 3 });
  expect(Array.from(model.initializer('fc0.weight')!.data as Float32Array)).toEqual(Array.from(weight));
  expect(Buffer.from(serializeModel(source)).equals(Buffer.from(before))).toBe(true);
});

describe('mismatches are refused with the names involved', () => {
  const write = (name: string, dtype: 'float32' | 'float16', dims: number[]) => {
    const file = path.join(dir, `${name}.safetensors`);
    const count = dims.reduce((a, b) => a * b, 1);
    writeSafetensors(file, [{ name, dtype, dims, bytes: () => new Uint8Array(count * (dtype === 'float32' ? 4 : 2)) }]);
    return file;
  };
  test('a file tensor that names no model tensor', () => {
    expect(() => applyWeights(mlp(0), write('decoder.weight', 'float32', [4, 8])))
      .toThrow(/1 tensor\(s\) match no initializer or Constant in the model: "decoder.weight"/);
  });
  test('a dtype mismatch', () => {
    expect(() => applyWeights(mlp(0), write('fc0.weight', 'float16', [4, 8]))).toThrow('tensor "fc0.weight": the file holds float16, model tensor "fc0.weight" is float32');
  });
  test('a shape mismatch', () => {
    expect(() => applyWeights(mlp(0), write('fc0.weight', 'float32', [8, 4]))).toThrow('the file holds shape [8, 4], model tensor "fc0.weight" is [4, 8]');
  });
  test('a map entry for a tensor the file lacks', () => {
    expect(() => applyWeights(mlp(0), write('fc0.weight', 'float32', [4, 8]), { map: { 'fc9.weight': 'fc0.weight' } }))
      .toThrow(/does not hold: "fc9.weight"/);
  });
  test('two file tensors mapped onto one model tensor', () => {
    const file = path.join(dir, 'two.safetensors');
    const t = (name: string) => ({ name, dtype: 'float32' as const, dims: [8], bytes: () => new Uint8Array(32) });
    writeSafetensors(file, [t('a'), t('b')]);
    expect(() => applyWeights(mlp(0), file, { map: { a: 'fc0.bias', b: 'fc0.bias' } })).toThrow(/would get both "a" and "b"/);
  });
});

testWhen(realModelsAbsent(REAL.vad), 'silero VAD: initializers inside If bodies export and apply', () => {
  const file = path.join(dir, 'vad.safetensors');
  const source = loadModel(REAL.vad);
  const report = exportWeights(source, file);
  expect(report.tensors).toBe(259);
  const names = SafetensorsFile.open(file).entries.map((e) => e.name);
  expect(names).toContain('model.first_layer.0.dw_conv.0.weight');
  const { model, report: applied } = applyWeights(source, file);
  expect(applied.replaced).toBe(259);
  expect(Buffer.from(serializeModel(model)).equals(Buffer.from(serializeModel(source)))).toBe(true);
});

testWhen(realModelsAbsent(REAL.cls), 'PP-OCR classifier: weights live in Constant nodes, found by default, all Constants with constants: true, applied back', () => {
  const file = path.join(dir, 'cls.safetensors');
  const source = loadModel(REAL.cls);
  const weightsOnly = exportWeights(source, path.join(dir, 'weights-only.safetensors'));
  expect(weightsOnly.tensors).toBeGreaterThan(200);
  const report = exportWeights(source, file, { constants: true });
  expect(report.tensors).toBeGreaterThanOrEqual(weightsOnly.tensors);
  const { model, report: applied } = applyWeights(source, file);
  expect(applied.replaced).toBe(report.tensors);
  expect(Buffer.from(serializeModel(model)).equals(Buffer.from(serializeModel(source)))).toBe(true);
});
