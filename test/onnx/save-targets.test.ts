// A save renames its temporary file over the target path, which replaces whatever is there. Only a
// regular file (or a symlink to one) may be replaced: `-o /dev/full` run as root used to turn the
// device node into a regular file. A named pipe stands in for the device here.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildMlp, loadModel, ModelSaveError, saveModel } from '../../lib/onnx';
import { makeTempDir, removeDir } from '../helpers/temp';

const model = buildMlp({ inputSize: 8, hidden: [16], outputSize: 2, seed: 5 });
let dir: string;
beforeEach(() => {
  dir = makeTempDir();
});
afterEach(() => removeDir(dir));

function fifo(name: string): string {
  const file = path.join(dir, name);
  const made = spawnSync('mkfifo', [file]);
  if (made.status !== 0) throw new Error(`mkfifo failed: ${made.stderr}`);
  return file;
}

test('a named pipe as the model path is refused and stays a pipe', () => {
  const pipe = fifo('model.onnx');
  expect(() => saveModel(model, pipe)).toThrow(ModelSaveError);
  expect(() => saveModel(model, pipe)).toThrow(/cannot save to ".*model\.onnx": it is a named pipe, not a regular file; refusing to replace it/);
  expect(fs.lstatSync(pipe).isFIFO()).toBe(true);
  expect(fs.readdirSync(dir)).toEqual(['model.onnx']);
});

test('a symlink to a pipe is refused; a symlink to a regular file is not', () => {
  fs.symlinkSync(fifo('pipe'), path.join(dir, 'to-pipe.onnx'));
  expect(() => saveModel(model, path.join(dir, 'to-pipe.onnx'))).toThrow(/it is a named pipe/);
  fs.writeFileSync(path.join(dir, 'old.onnx'), 'old');
  fs.symlinkSync(path.join(dir, 'old.onnx'), path.join(dir, 'to-file.onnx'));
  saveModel(model, path.join(dir, 'to-file.onnx'));
  expect(loadModel(path.join(dir, 'to-file.onnx')).initializer('fc0.weight')!.data).toEqual(model.initializer('fc0.weight')!.data);
  expect(fs.lstatSync(path.join(dir, 'pipe')).isFIFO()).toBe(true);
});

test('a pipe where the external data would go is refused before anything is written', () => {
  const pipe = fifo('model.onnx.data');
  expect(() => saveModel(model, path.join(dir, 'model.onnx'), { externalData: { threshold: 64 } })).toThrow(/model\.onnx\.data": it is a named pipe/);
  expect(fs.readdirSync(dir)).toEqual(['model.onnx.data']);
  expect(fs.lstatSync(pipe).isFIFO()).toBe(true);
});

test('a folder as the target is still refused', () => {
  expect(() => saveModel(model, dir)).toThrow(/it is a directory, not a regular file/);
});
