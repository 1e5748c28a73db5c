// onnxruntime-node's telemetry layer can leave an empty mat-debug-<pid>.log in the temp dir for every
// process that created a session (whether it does depends on the machine); a process using onnxforge (the
// package root or the CLI) removes its own at exit. The child below makes sure the file exists before it
// exits, as onnxruntime does where its telemetry is on, so the clean-up is tested on every machine.
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

/** A child that loads onnxforge, runs a session, and leaves its own debug log with `content` in it. */
function sessionLeavingLog(content: string): string {
  return `
  require(${JSON.stringify(path.join(DIST, 'lib/index.js'))});
  const fs = require('node:fs'), os = require('node:os'), path = require('node:path');
  const ort = require('onnxruntime-node');
  const { buildMlp, serializeModel } = require(${JSON.stringify(path.join(DIST, 'lib/onnx/index.js'))});
  ort.InferenceSession.create(serializeModel(buildMlp({ inputSize: 4, hidden: [8], outputSize: 2 })))
    .then((s) => s.release())
    .then(() => {
      const log = path.join(os.tmpdir(), 'mat-debug-' + process.pid + '.log');
      fs.writeFileSync(log, ${JSON.stringify(content)}, { flag: ${JSON.stringify(content ? 'w' : 'a')} });
      console.log(process.pid);
    });
`;
}

test('a process that loads onnxforge removes its own empty mat-debug log at exit, and no one else’s', () => {
  const tmp = makeTempDir();
  try {
    fs.writeFileSync(path.join(tmp, 'mat-debug-1.log'), '');
    const pid = runIn(tmp, sessionLeavingLog(''));
    expect(pid).toBeGreaterThan(1);
    expect(fs.readdirSync(tmp).filter((f) => f.startsWith('mat-debug-'))).toEqual(['mat-debug-1.log']);
  } finally {
    removeDir(tmp);
  }
});

test('a debug log that holds something is kept', () => {
  const tmp = makeTempDir();
  try {
    const pid = runIn(tmp, sessionLeavingLog('an onnxruntime message\n'));
    expect(fs.readFileSync(path.join(tmp, `mat-debug-${pid}.log`), 'utf8')).toBe('an onnxruntime message\n');
  } finally {
    removeDir(tmp);
  }
});
