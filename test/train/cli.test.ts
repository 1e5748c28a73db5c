// onnxforge distill and onnxforge train as a user runs them: JSON reports, one-line reasons and exit
// code 1 on failure, inputs never overwritten, data read from each documented layout.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeNpy } from '../../lib/compare/npy';
import { buildConvNet, saveModel } from '../../lib/onnx';
import { loadModel } from '../../lib/onnx/load';
import { runCli } from '../helpers/cli';
import { makeTempDir, removeDir } from '../helpers/temp';
import { barImages } from './tasks';

let dir: string;
const at = (name: string) => path.join(dir, name);

beforeAll(() => {
  dir = makeTempDir('onnxforge-distill-cli-');
  saveModel(buildConvNet({ channels: 1, size: 8, classes: 4, widths: [8, 16], batch: 'batch', seed: 2 }), at('teacher.onnx'));
  const data = barImages(96, 8, 1);
  fs.mkdirSync(at('data'));
  fs.writeFileSync(at('data/input.npy'), encodeNpy(data.inputs.input));
  fs.writeFileSync(at('labels.npy'), encodeNpy(data.labels!));
  fs.writeFileSync(at('labels40.npy'), encodeNpy({ type: 'int64', dims: [40], data: (data.labels!.data as BigInt64Array).slice(0, 40) }));
  // The same samples as calibration-style folders: one per sample, a leading batch axis of 1 each.
  for (let i = 0; i < 40; i++) {
    fs.mkdirSync(at(`samples/${String(i).padStart(2, '0')}`), { recursive: true });
    const image = (data.inputs.input.data as Float32Array).slice(i * 64, (i + 1) * 64);
    fs.writeFileSync(at(`samples/${String(i).padStart(2, '0')}/input.npy`), encodeNpy({ type: 'float32', dims: [1, 1, 8, 8], data: image }));
  }
});
afterAll(() => removeDir(dir));

const STUDENT = ['--student-from', 'prune:channel=0.5,min-params=0'];

test('distill --json reports the student, the training and the figures against the teacher', () => {
  const r = runCli(['distill', '--teacher', at('teacher.onnx'), ...STUDENT, '--data', at('data'), '-o', at('student.onnx'), '--steps', '6', '--batch', '16', '--json']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const report = JSON.parse(r.stdout);
  expect(report.student.source).toBe('prune:channel=0.5,min-params=0');
  expect(report.training).toMatchObject({ steps: 6, plannedSteps: 6, batch: 16, optimizer: 'adamw', interrupted: false });
  expect(report.compare.outputs[0].name).toBe('output');
  expect(report.compare.b.fileBytes).toBeLessThan(report.compare.a.fileBytes);
  expect(loadModel(at('student.onnx')).initializer('conv0.weight')?.dims).toEqual([4, 1, 3, 3]);
  expect(fs.existsSync(at('student.onnx.ckpt'))).toBe(false);
});

test('train reads calibration-style sample folders and writes a checkpoint every n steps', () => {
  const r = runCli(['train', at('teacher.onnx'), '--data', at('samples'), '--labels', at('labels40.npy'), '-o', at('trained.onnx'), '--steps', '4', '--batch', '8', '--checkpoint-every', '2']);
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^training: 4 steps \(0\.8 epochs, batch 8\)/m);
  expect(fs.existsSync(at('trained.onnx.ckpt'))).toBe(true);
});

test.each([
  ['writing over the teacher', ['distill', '--teacher', 'T', ...STUDENT, '--data', 'D', '-o', 'T'], /refusing to write over the input model/],
  ['no student', ['distill', '--teacher', 'T', '--data', 'D', '-o', 'out.onnx'], /give a student model or a --student-from spec/],
  ['a bad spec', ['distill', '--teacher', 'T', '--student-from', 'prune:channel=2', '--data', 'D', '-o', 'out.onnx'], /sparsity in \(0, 1\)/],
  ['a bad match', ['distill', '--teacher', 'T', ...STUDENT, '--data', 'D', '-o', 'out.onnx', '--match', 'x'], /--match expects TEACHER_VALUE=STUDENT_VALUE/],
  ['labels of another size', ['train', 'T', '--data', 'D', '--labels', 'labels40.npy', '-o', 'out.onnx'], /40 labels for 96 samples/],
  ['eval labels without eval data', ['train', 'T', '--data', 'D', '--labels', 'labels.npy', '--eval-labels', 'labels.npy', '-o', 'out.onnx'], /--eval-labels needs --eval/],
  ['a missing data folder', ['train', 'T', '--data', 'nowhere', '--labels', 'labels.npy', '-o', 'out.onnx'], /nowhere does not exist/],
])('%s: exit 1 with a one-line reason', (_name, args, reason) => {
  const r = runCli(args.map((a) => (a === 'T' ? at('teacher.onnx') : a === 'D' ? at('data') : /\.(npy|onnx)$/.test(a) || a === 'nowhere' ? at(a) : a)));
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(reason);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(fs.existsSync(at('out.onnx'))).toBe(false);
});
