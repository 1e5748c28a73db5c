// saveModel writes a model and its external data as a set: both to temporary files, renamed into place
// model last. A save interrupted at any step (here: a failing write or rename, injected by wrapping
// node's fs) leaves the previous model and its data as they were, and no temporary file behind.
// The module object itself (not a namespace copy), so that wrapping its functions reaches lib/onnx too.
import fs from 'node:fs';
import * as path from 'node:path';
import { buildMlp, loadModel, ModelSaveError, saveModel, type Model } from '../../lib/onnx';
import { expectSameData, tempDir } from './helpers';

const WEIGHT = 'fc0.weight';
const previous = buildMlp({ inputSize: 32, hidden: [64], outputSize: 8, seed: 1 });
const next = buildMlp({ inputSize: 32, hidden: [64], outputSize: 8, seed: 2 });

let tmp: ReturnType<typeof tempDir>;
let file: string;
beforeEach(() => {
  tmp = tempDir();
  file = path.join(tmp.dir, 'model.onnx');
});
afterEach(() => {
  jest.restoreAllMocks();
  tmp.cleanup();
});

const weight = (model: Model) => model.initializer(WEIGHT)!.data;

/** Makes the rename onto `target` fail, once, as a full disk or a vanished folder would. */
function failRenameOnto(target: string): void {
  const rename = fs.renameSync;
  jest.spyOn(fs, 'renameSync').mockImplementation((from, to) => {
    if (path.resolve(String(to)) === target) throw Object.assign(new Error('ENOSPC: no space left on device, rename'), { code: 'ENOSPC' });
    rename(from, to);
  });
}

/** Makes writing the model file's bytes fail, after the data file has been written in full. */
function failWritingModelFile(): void {
  const { openSync, writeSync } = fs;
  const modelTemps = new Set<number>();
  jest.spyOn(fs, 'openSync').mockImplementation((...args: Parameters<typeof fs.openSync>) => {
    const fd = openSync(...args);
    if (/^\.model\.onnx\.onnxforge-tmp-\d+-[0-9a-f]+$/.test(path.basename(String(args[0])))) modelTemps.add(fd);
    return fd;
  });
  jest.spyOn(fs, 'writeSync').mockImplementation(((fd: number, ...rest: unknown[]) => {
    if (modelTemps.has(fd)) throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
    return (writeSync as (fd: number, ...r: unknown[]) => number)(fd, ...rest);
  }) as typeof fs.writeSync);
}

function expectPreviousModelIntact(files: string[]): void {
  expect(fs.readdirSync(tmp.dir).sort()).toEqual(files);
  expectSameData(weight(loadModel(file)), weight(previous));
}

describe('an interrupted save with external data', () => {
  test('the model file\'s write fails after the data file is written: the previous set is untouched', () => {
    saveModel(previous, file, { externalData: { threshold: 256 } });
    failWritingModelFile();
    expect(() => saveModel(next, file, { externalData: { threshold: 256 } })).toThrow(ModelSaveError);
    expectPreviousModelIntact(['model.onnx', 'model.onnx.data']);
  });

  test('the model file\'s rename fails after the data file was renamed into place: the previous data comes back', () => {
    saveModel(previous, file, { externalData: { threshold: 256 } });
    failRenameOnto(file);
    expect(() => saveModel(next, file, { externalData: { threshold: 256 } })).toThrow(/ENOSPC/);
    expectPreviousModelIntact(['model.onnx', 'model.onnx.data']);
  });

  test('over an inline model, a data file renamed into place is removed again', () => {
    saveModel(previous, file, { externalData: false });
    failRenameOnto(file);
    expect(() => saveModel(next, file, { externalData: { threshold: 256 } })).toThrow(/ENOSPC/);
    expectPreviousModelIntact(['model.onnx']);
  });

  test('per-tensor data files are put back as a set too', () => {
    saveModel(previous, file, { externalData: { threshold: 256, singleFile: false } });
    const before = fs.readdirSync(tmp.dir).sort();
    expect(before.length).toBeGreaterThan(2);
    failRenameOnto(file);
    expect(() => saveModel(next, file, { externalData: { threshold: 256, singleFile: false } })).toThrow(/ENOSPC/);
    expectPreviousModelIntact(before);
  });

  test('the same save, uninterrupted, replaces the set and leaves only its files', () => {
    saveModel(previous, file, { externalData: { threshold: 256 } });
    saveModel(next, file, { externalData: { threshold: 256 } });
    expect(fs.readdirSync(tmp.dir).sort()).toEqual(['model.onnx', 'model.onnx.data']);
    expectSameData(weight(loadModel(file)), weight(next));
  });
});

describe('data files the new model no longer reads', () => {
  test('an inline save over external data removes the old data file', () => {
    saveModel(previous, file, { externalData: { threshold: 256 } });
    saveModel(next, file, { externalData: false });
    expect(fs.readdirSync(tmp.dir)).toEqual(['model.onnx']);
    expectSameData(weight(loadModel(file)), weight(next));
  });

  test('a model saved back in place as one data file drops its per-tensor files, and stays readable in memory', () => {
    saveModel(previous, file, { externalData: { threshold: 256, singleFile: false } });
    const loaded = loadModel(file);
    saveModel(loaded, file, { externalData: { threshold: 256 } });
    expect(fs.readdirSync(tmp.dir).sort()).toEqual(['model.onnx', 'model.onnx.data']);
    expectSameData(weight(loaded), weight(previous));
    expectSameData(weight(loadModel(file)), weight(previous));
  });

  test('the data file of the model being converted is never removed, even when named after the output', () => {
    const source = path.join(tmp.dir, 'source.onnx');
    saveModel(previous, source, { externalData: { threshold: 256, location: 'model.onnx.data' } });
    saveModel(loadModel(source), file, { externalData: false });
    expect(fs.readdirSync(tmp.dir).sort()).toEqual(['model.onnx', 'model.onnx.data', 'source.onnx']);
    expectSameData(weight(loadModel(source)), weight(previous));
  });
});
