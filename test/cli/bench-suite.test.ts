// `onnxforge bench --suite NAME` runs the repository's bench suites (as `npm run bench -- NAME`), and no
// bench run overwrites the committed bench/results unless --write is given: results go to a folder in
// the temp dir by default.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { kernels } from '../../lib/kernels';
import { runCli } from '../helpers/cli';
import { makeTempDir, removeDir } from '../helpers/temp';

const COMMITTED = path.resolve(__dirname, '../../bench/results');
// The cuda suite only records "not measured" without a GPU: the quickest suite that writes results.
const SUITE = kernels.cudaAvailable() ? 'float' : 'cuda';

test('an unknown suite is one line naming the suites there are', () => {
  const r = runCli(['bench', '--suite', 'nope']);
  expect(r.status).toBe(1);
  expect(r.stderr.trim()).toMatch(/^bench: unknown suite\(s\) nope; available: engine, engine-conv, int8, float, /);
});

test('a model and --suite together, or neither, is a usage error', () => {
  expect(runCli(['bench', 'model.onnx', '--suite', 'cuda']).stderr.trim()).toBe('onnxforge: give a model or --suite, not both');
  expect(runCli(['bench']).stderr.trim()).toMatch(/^onnxforge: missing model: onnxforge bench MODEL \(or --suite NAME/);
});

test(`--suite ${SUITE} writes to the temp dir, leaving the committed results as they are`, () => {
  const tmp = makeTempDir();
  try {
    const before = fs.readdirSync(COMMITTED).map((f) => [f, fs.readFileSync(path.join(COMMITTED, f), 'utf8')]);
    const r = runCli(['bench', '--suite', SUITE, '--quick'], { TMPDIR: tmp });
    expect(r.status).toBe(0);
    const out = path.join(tmp, 'onnxforge-bench-results');
    expect(r.stdout).toContain(`${SUITE}: results written to ${out} (--write updates the committed bench/results)`);
    expect(fs.readdirSync(out).sort()).toEqual(expect.arrayContaining([`${SUITE}.json`, `${SUITE}.md`]));
    expect(fs.readdirSync(COMMITTED).map((f) => [f, fs.readFileSync(path.join(COMMITTED, f), 'utf8')])).toEqual(before);
  } finally {
    removeDir(tmp);
  }
});

test('npm run bench -- --help prints the usage and the suites, and runs none', () => {
  const r = spawnSync(process.execPath, [path.resolve(__dirname, '../../dist/bench/main.js'), '--help'], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^npm run bench \[-- SUITE\.\.\. /);
  expect(r.stdout).toMatch(/^Suites: engine, engine-conv, .*serve-storm, /m);
  // A suite that ran would have reported its progress on stderr.
  expect(r.stderr).toBe('');
});
