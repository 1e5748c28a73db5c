// --dim and --shape: unknown names are refused naming the valid ones, --shape reaches unnamed dims,
// and inspect says which dims it assumed.
import * as path from 'path';
import { GraphBuilder, saveModel } from '../../lib/onnx';
import { runCli } from '../helpers/cli';
import { makeTempDir, removeDir } from '../helpers/temp';

let dir = '';
let unnamed = '';
let symbolic = '';

/** x[?, 8] @ w[8, 4]: the first dim of x is unnamed (-1) when `dim0` is -1, symbolic otherwise. */
function matmulModel(dim0: number | string, file: string): string {
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', [dim0, 8]);
  const w = g.initializer('w', Float32Array.from({ length: 32 }, (_, i) => (i % 7) / 7 - 0.5), [8, 4]);
  g.output(g.node('MatMul', [x, w], ['y'])[0], 'float32', [dim0, 4]);
  saveModel(g.build(), file);
  return file;
}

beforeAll(() => {
  dir = makeTempDir();
  unnamed = matmulModel(-1, path.join(dir, 'unnamed.onnx'));
  symbolic = matmulModel('batch', path.join(dir, 'symbolic.onnx'));
});
afterAll(() => removeDir(dir));

function oneLineFailure(args: string[], pattern: RegExp): void {
  const r = runCli(args);
  expect(r.status).toBe(1);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

describe('symbolic and unnamed dims', () => {
  test('inspect says which dims it assumed and how to set them', () => {
    const sym = runCli(['inspect', symbolic]);
    expect(sym.status).toBe(0);
    expect(sym.stdout).toContain('assumed: batch=1 (symbolic; set with --dim batch=N)');
    expect(runCli(['inspect', symbolic, '--dim', 'batch=3']).stdout).not.toContain('assumed:');
    const json = JSON.parse(runCli(['inspect', unnamed, '--json']).stdout);
    expect(json.assumed).toEqual([{ input: 'x', axis: 0, dim: null, value: 1 }]);
    expect(runCli(['inspect', unnamed]).stdout).toContain('assumed: x dim 0=1 (unnamed; set with --shape x=N,8)');
  });

  test('--shape sets an unnamed dim: MACs of inspect and the shape bench runs', () => {
    const json = JSON.parse(runCli(['inspect', unnamed, '--shape', 'x=5,8', '--json']).stdout);
    expect(json.macs.total).toBe(5 * 8 * 4);
    expect(json.assumed).toEqual([]);
    const bench = JSON.parse(runCli(['bench', unnamed, '--engine', 'ort', '--shape', 'x=3,8', '--runs', '1', '--warmup', '0', '--json']).stdout);
    expect(bench.inputs).toEqual([{ name: 'x', dims: [3, 8], type: 'float32' }]);
  });

  test('compare generates inputs of the --shape given', () => {
    const r = runCli(['compare', unnamed, unnamed, '--shape', 'x=6,8', '--samples', '1', '--runs', '0', '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).outputs[0]).toMatchObject({ name: 'y', maxAbsError: 0 });
  });

  test('an unknown --dim name or --shape input is a one-line error naming the valid ones', () => {
    oneLineFailure(['inspect', symbolic, '--dim', 'batchsize=2'], /unknown dim "batchsize".*symbolic dims: batch$/);
    oneLineFailure(['inspect', unnamed, '--dim', 'batch=2'], /unknown dim "batch".*no symbolic dims.*--shape/);
    oneLineFailure(['inspect', symbolic, '--shape', 'input=1,8'], /unknown input "input" \(--shape\); inputs: x$/);
    oneLineFailure(['compare', symbolic, symbolic, '--dim', 'seq=4', '--runs', '0'], /unknown dim "seq".*symbolic dims: batch/);
    oneLineFailure(['bench', symbolic, '--engine', 'ort', '--dim', 'seq=4'], /unknown dim "seq".*symbolic dims: batch/);
    oneLineFailure(['quantize', symbolic, '-o', path.join(dir, 'q.onnx'), '--mode', 'dynamic', '--dim', 'seq=4'], /unknown dim "seq"/);
    oneLineFailure(['inspect', unnamed, '--shape', 'x=2,9'], /sets dim 1 to 9; input x fixes it at 8/);
    oneLineFailure(['inspect', unnamed, '--shape', 'x=2'], /rank 1; input x has rank 2/);
    oneLineFailure(['inspect', unnamed, '--shape', 'x=a,b'], /expected --shape INPUT=D1,D2/);
  });
});
