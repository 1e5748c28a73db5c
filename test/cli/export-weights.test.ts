// export-weights on models whose weights live in Constant nodes (as old exporters write them),
// and on a model with nothing to export.
import * as fs from 'fs';
import * as path from 'path';
import { GraphBuilder, makeTensor, saveModel } from '../../lib/onnx';
import { SafetensorsFile } from '../../lib/convert/safetensors';
import { runCli } from '../helpers/cli';
import { makeTempDir, removeDir } from '../helpers/temp';

let dir = '';
beforeAll(() => (dir = makeTempDir()));
afterAll(() => removeDir(dir));

/** y = reshape(x @ W + b, [2, 2]) with W, b and the shape all Constant nodes; no initializers. */
function constantWeightsModel(file: string): string {
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', [1, 8]);
  const w = g.node('Constant', [], ['fc.weight'], { value: makeTensor('', Float32Array.from({ length: 32 }, (_, i) => i / 32), [8, 4]) });
  const b = g.node('Constant', [], ['fc.bias'], { value: makeTensor('', Float32Array.of(1, 2, 3, 4), [4]) });
  const shape = g.node('Constant', [], ['shape'], { value: makeTensor('', BigInt64Array.of(2n, 2n), [2]) });
  const scale = g.node('Constant', [], ['scale'], { value: makeTensor('', Float32Array.of(0.5), []) });
  const y = g.node('Add', [g.node('MatMul', [x, w]), b]);
  g.output(g.node('Reshape', [g.node('Mul', [y, scale]), shape], ['y']), 'float32', [2, 2]);
  saveModel(g.build(), file);
  return file;
}

describe('export-weights', () => {
  test('finds the weights of a model that keeps them in Constant nodes', () => {
    const model = constantWeightsModel(path.join(dir, 'constants.onnx'));
    const out = path.join(dir, 'constants.safetensors');
    const r = runCli(['export-weights', model, '-o', out, '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).tensors).toBe(2);
    // The MatMul weight and the added bias; not the Reshape target shape nor the scalar scale.
    expect(SafetensorsFile.open(out).entries.map((e) => e.name).sort()).toEqual(['fc.bias', 'fc.weight']);
    const all = path.join(dir, 'all.safetensors');
    expect(JSON.parse(runCli(['export-weights', model, '-o', all, '--constants', '--json']).stdout).tensors).toBe(4);
  });

  test('a model with nothing to export fails with a one-line reason and writes no file', () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', [1, 4]);
    g.output(g.node('Relu', [x], ['y']), 'float32', [1, 4]);
    const model = path.join(dir, 'no-weights.onnx');
    saveModel(g.build(), model);
    const out = path.join(dir, 'none.safetensors');
    const r = runCli(['export-weights', model, '-o', out]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^onnxforge: the model has no weights to export: no initializers and no Constant node feeding a weight input/);
    expect(fs.existsSync(out)).toBe(false);
  });
});
