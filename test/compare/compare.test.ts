import * as fs from 'fs';
import * as path from 'path';
import { compareModels } from '../../lib/compare/compare';
import { encodeNpy } from '../../lib/compare/npy';
import { cosineSimilarity, top1Agreement } from '../../lib/compare/metrics';
import { buildMlp, makeTensor, saveModel, serializeModel } from '../../lib/onnx';
import { convertFloat } from '../../lib/convert';
import { toBinary } from '@bufbuild/protobuf';
import { TensorProtoSchema } from '../../lib/onnx/gen/onnx_pb';
import { makeTempDir, removeDir } from '../helpers/temp';

let dir: string;
beforeAll(() => {
  dir = makeTempDir();
});
afterAll(() => removeDir(dir));

describe('metrics', () => {
  test('cosine and top-1 agreement', () => {
    expect(cosineSimilarity(Float64Array.from([1, 0]), Float64Array.from([0, 1]))).toBe(0);
    expect(cosineSimilarity(Float64Array.from([1, 2]), Float64Array.from([2, 4]))).toBeCloseTo(1, 12);
    expect(top1Agreement(Float64Array.from([1, 2, 3, 0]), Float64Array.from([0, 5, 0, 1]), [2, 2])).toBe(0.5);
    expect(top1Agreement(Float64Array.from([1, 2]), Float64Array.from([1, 2]), [2, 1])).toBeNull();
  });
});

describe('compareModels', () => {
  const a = () => buildMlp({ inputSize: 16, hidden: [32], outputSize: 8, seed: 1 });

  test('a model against itself: exact agreement; against another: lower cosine', async () => {
    const same = await compareModels(serializeModel(a()), serializeModel(a()), { dims: { batch: 3 }, latencyRuns: 2 });
    expect(same.outputs).toHaveLength(1);
    expect(same.outputs[0]).toMatchObject({ name: 'output', cosine: 1, maxAbsError: 0, top1Agreement: 1 });
    expect(same.samples).toBe(4);
    expect(same.a.latency?.runs).toBe(2);
    const other = buildMlp({ inputSize: 16, hidden: [32], outputSize: 8, seed: 2 });
    const diff = await compareModels(serializeModel(a()), serializeModel(other), { latencyRuns: 0 });
    expect(diff.outputs[0].cosine).toBeLessThan(0.99);
    expect(diff.outputs[0].maxAbsError).toBeGreaterThan(0);
    expect(diff.latencyRatio).toBeNull();
  });

  test('inputs from a folder: .npy and input_<i>.pb samples give the same figures', async () => {
    const file = path.join(dir, 'mlp.onnx');
    saveModel(a(), file);
    const x = Float32Array.from({ length: 2 * 16 }, (_, i) => Math.sin(i));
    const samples = path.join(dir, 'samples');
    fs.mkdirSync(path.join(samples, '0'), { recursive: true });
    fs.mkdirSync(path.join(samples, '1'), { recursive: true });
    fs.writeFileSync(path.join(samples, '0', 'input.npy'), encodeNpy({ type: 'float32', dims: [2, 16], data: x }));
    fs.writeFileSync(path.join(samples, '1', 'input_0.pb'), toBinary(TensorProtoSchema, makeTensor('input', x, [2, 16])));
    const report = await compareModels(file, file, { inputsDir: samples, latencyRuns: 0 });
    expect(report.samples).toBe(2);
    expect(report.inputsGenerated).toBe(false);
    expect(report.outputs[0].cosine).toBe(1);
    expect(report.a.fileBytes).toBe(fs.statSync(file).size);
  });

  test('a float16 model takes the float32 original\'s inputs, converted', async () => {
    const { model: half } = convertFloat(a(), { dtype: 'float16' });
    expect(half.inputs[0].dtype).toBe('float16');
    const report = await compareModels(serializeModel(a()), serializeModel(half), { dims: { batch: 2 }, latencyRuns: 1 });
    expect(report.outputs[0].cosine).toBeGreaterThan(0.999);
    expect(report.outputs[0].maxAbsError).toBeGreaterThan(0);
  });

  test('a sample folder missing an input file is a clear error', async () => {
    const empty = path.join(dir, 'empty-sample');
    fs.mkdirSync(path.join(empty, 's0'), { recursive: true });
    await expect(compareModels(serializeModel(a()), serializeModel(a()), { inputsDir: empty })).rejects.toThrow(/no file for input input/);
  });
});
