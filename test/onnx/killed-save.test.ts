// A save killed with SIGKILL (no handler runs) leaves the previous model as it was and loadable; the
// temporary file it left says whose it was, and the next save into the folder removes it, while the
// temporary files of processes still running are left alone.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildMlp, loadModel, saveModel } from '../../lib/onnx';
import { expectSameData } from './helpers';
import { makeTempDir, removeDir } from '../helpers/temp';

// The child runs the compiled library (npm test compiles dist/ first), as a user's process would.
const ROOT = path.resolve(__dirname, '../..');
const DIST_ONNX = path.join(path.basename(ROOT) === 'dist' ? ROOT : path.join(ROOT, 'dist'), 'lib/onnx/index.js');

// Wraps node's fs so that, once the first chunk has gone into a temporary file, the child says so and
// blocks until it is killed: the kill lands mid-save, at a known step, without any timing.
const CHILD = `
const fs = require('fs');
const path = require('path');
const { openSync, writeSync } = fs;
let temp;
fs.openSync = (...args) => {
  const fd = openSync(...args);
  if (temp === undefined && /\\.onnxforge-tmp-/.test(path.basename(String(args[0])))) temp = fd;
  return fd;
};
fs.writeSync = (fd, ...rest) => {
  const n = writeSync(fd, ...rest);
  if (fd === temp) {
    writeSync(1, 'temp written\\n');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  }
  return n;
};
const { buildMlp, saveModel } = require(process.argv[1]);
saveModel(buildMlp({ inputSize: 256, hidden: [1024, 1024], outputSize: 16, seed: 2 }), process.argv[2], { externalData: { threshold: 256 } });
`;

const previous = buildMlp({ inputSize: 256, hidden: [1024, 1024], outputSize: 16, seed: 1 });
const next = buildMlp({ inputSize: 256, hidden: [1024, 1024], outputSize: 16, seed: 3 });
const WEIGHT = 'fc1.weight';

let dir: string;
beforeEach(() => {
  dir = makeTempDir();
});
afterEach(() => removeDir(dir));

/** Starts a save of `next`-sized model in a child, kills it with SIGKILL mid-write; returns its pid. */
async function killSaveMidWrite(file: string): Promise<number> {
  const child = spawn(process.execPath, ['-e', CHILD, DIST_ONNX, file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  const written = await new Promise<boolean>((resolve) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('temp written')) resolve(true);
    });
    child.on('exit', () => resolve(false));
  });
  if (!written) throw new Error(`the child ended before writing a temporary file: ${stderr}`);
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  return child.pid as number;
}

test('SIGKILL mid-save: the old model is intact, and the next save removes the stale temporary file', async () => {
  const file = path.join(dir, 'model.onnx');
  saveModel(previous, file, { externalData: { threshold: 256 } });
  const dataBefore = fs.readFileSync(`${file}.data`);

  const pid = await killSaveMidWrite(file);
  const stale = fs.readdirSync(dir).filter((f) => f.includes('.onnxforge-tmp-'));
  expect(stale).toEqual([expect.stringMatching(new RegExp(`^\\.model\\.onnx\\.data\\.onnxforge-tmp-${pid}-[0-9a-f]+$`))]);
  expect(fs.readFileSync(`${file}.data`).equals(dataBefore)).toBe(true);
  expectSameData(loadModel(file).initializer(WEIGHT)!.data, previous.initializer(WEIGHT)!.data);

  // optimizeModel stages onnxruntime's output in a temporary folder named the same way.
  fs.mkdirSync(path.join(dir, `.model.onnx.onnxforge-tmp-${pid}-feedbeef`));
  fs.writeFileSync(path.join(dir, `.model.onnx.onnxforge-tmp-${pid}-feedbeef`, 'model.onnx'), 'partial');
  // A temporary file whose owner still runs (the process that started this test) must survive.
  const live = `.other.onnx.onnxforge-tmp-${process.ppid}-0123abcd`;
  fs.writeFileSync(path.join(dir, live), 'in progress');

  saveModel(next, file, { externalData: { threshold: 256 } });
  expect(fs.readdirSync(dir).sort()).toEqual([live, 'model.onnx', 'model.onnx.data']);
  expectSameData(loadModel(file).initializer(WEIGHT)!.data, next.initializer(WEIGHT)!.data);
});
