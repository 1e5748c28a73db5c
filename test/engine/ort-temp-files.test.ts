// onnxruntime-node leaves an empty mat-debug-<pid>.log in the temp dir for every process that created a
// session; a process using onnxforge (the package root or the CLI) removes its own at exit.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTempDir, removeDir } from '../helpers/temp';

const ROOT = path.resolve(__dirname, '../..');
const DIST = path.basename(ROOT) === 'dist' ? ROOT : path.join(ROOT, 'dist');

function runIn(tmp: string, code: string): number {
  const r = spawnSync(process.execPath, ['-e', code], { env: { ...process.env, TMPDIR: tmp }, encoding: 'utf8' });
  expect(r.stderr.replace(/.*W:onnxruntime.*\n/g, '')).toBe('');
  expect(r.status).toBe(0);
  return Number(r.stdout.trim());
}

const SESSION = `
  const ort = require('onnxruntime-node');
  const { buildMlp, serializeModel } = require(${JSON.stringify(path.join(DIST, 'lib/onnx/index.js'))});
  ort.InferenceSession.create(serializeModel(buildMlp({ inputSize: 4, hidden: [8], outputSize: 2 }))).then((s) => s.release()).then(() => console.log(process.pid));
`;

test('onnxruntime alone leaves mat-debug-<pid>.log behind (the reason for the clean-up)', () => {
  const tmp = makeTempDir();
  try {
    const pid = runIn(tmp, SESSION);
    expect(fs.readdirSync(tmp)).toContain(`mat-debug-${pid}.log`);
  } finally {
    removeDir(tmp);
  }
});

test('a process that loads onnxforge removes its own empty mat-debug log at exit, and no one else’s', () => {
  const tmp = makeTempDir();
  try {
    fs.writeFileSync(path.join(tmp, 'mat-debug-1.log'), '');
    const pid = runIn(tmp, `require(${JSON.stringify(path.join(DIST, 'lib/index.js'))});${SESSION}`);
    expect(fs.readdirSync(tmp).filter((f) => f.startsWith('mat-debug-'))).toEqual(['mat-debug-1.log']);
    expect(pid).toBeGreaterThan(1);
  } finally {
    removeDir(tmp);
  }
});
