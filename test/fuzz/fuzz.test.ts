// The fuzz corpus: corrupt models, hostile calls into the addon and malformed command lines. Each case
// must end in a clear error (or a clean success), never a crash (a signal), a hang (the per-case
// timeout is a safety net, not a speed assertion) or a file left behind. CI runs a bounded slice every
// time; ONNXFORGE_FUZZ=full runs every case. The counts each mode runs are asserted, so the README's
// figures stay true.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildMlp, saveModel } from '../../lib/onnx';
import { CLI } from '../helpers/cli';
import { makeTempDir, removeDir } from '../helpers/temp';
import { addonCases } from './addon-corpus';
import { cliCases } from './cli-corpus';
import { modelCases } from './model-corpus';
import { caseCounts, fuzzMode, problemWith, sliceOf, type CaseResult } from './protocol';
import { runCorpus } from './runner';

const mode = fuzzMode();
const counts = caseCounts(mode);
// Cases per mode (with both real models of node_modules installed; see bases()).
const EXPECTED = { slice: { model: 162, addon: 131, cli: 24 }, full: { model: 1296, addon: 524, cli: 190 } }[mode];

let work: string;
beforeAll(() => {
  work = makeTempDir('onnxforge-fuzz-');
});
afterAll(() => removeDir(work));

function summary(results: readonly CaseResult[]): string {
  const by = new Map<string, number>();
  for (const r of results) {
    const key = r.outcome === 'error' ? `error at ${r.stage}` : r.outcome;
    by.set(key, (by.get(key) ?? 0) + 1);
  }
  return [...by].map(([k, n]) => `${k}: ${n}`).join(', ');
}

function expectClear(results: readonly CaseResult[]): void {
  const bad = results.map((r) => ({ id: r.id, problem: problemWith(r), message: r.message?.split('\n')[0] })).filter((r) => r.problem);
  expect(bad).toEqual([]);
}

test(`corrupt models (${mode}): loaded, inspected, saved and opened by onnxruntime and the native engine, each ends in a clear error or a sound file`, async () => {
  const expected = modelCases(counts.seedsPerMutation).length;
  const results = await runCorpus('model', mode, work);
  process.stderr.write(`fuzz ${mode}: ${results.length} model cases (${summary(results)})\n`);
  expect(results.map((r) => r.i)).toEqual(Array.from({ length: expected }, (_, i) => i));
  expect(expected).toBe(EXPECTED.model);
  expectClear(results);
  expect(fs.readdirSync(work)).toEqual([]);
});

test(`hostile calls into the addon (${mode}): each is an error or a result, never a crash`, async () => {
  const expected = sliceOf(addonCases(), counts.addonEvery).length;
  const results = await runCorpus('addon', mode, work);
  process.stderr.write(`fuzz ${mode}: ${results.length} addon cases (${summary(results)})\n`);
  expect(results.map((r) => r.i)).toEqual(Array.from({ length: expected }, (_, i) => i));
  expect(expected).toBe(EXPECTED.addon);
  expectClear(results);
});

describe(`malformed command lines (${mode})`, () => {
  const cases = sliceOf(cliCases(), counts.cliEvery);
  let dir: string;
  beforeAll(() => {
    dir = makeTempDir('onnxforge-fuzz-cli-');
    saveModel(buildMlp({ inputSize: 32, hidden: [64], outputSize: 10, seed: 1 }), path.join(dir, 'mlp.onnx'));
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a model\n');
  });
  afterAll(() => removeDir(dir));

  test('the corpus size', () => {
    expect(cases.length).toBe(EXPECTED.cli);
  });

  test.each(cases)('$id', ({ args }) => {
    const before = fs.readdirSync(dir).sort();
    const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8', timeout: 120000, env: { ...process.env, NO_COLOR: '1' } });
    expect(r.signal).toBeNull();
    expect(r.status === 0 || r.status === 1).toBe(true);
    const now = fs.readdirSync(dir).sort();
    const added = now.filter((f) => !before.includes(f));
    if (r.status === 0) {
      // A run that succeeds writes only its named output (and that output's data file).
      for (const f of added) expect(f).toMatch(/^out\.(onnx|onnx\.data|safetensors)$/);
      for (const f of added) fs.rmSync(path.join(dir, f));
    } else {
      expect(added).toEqual([]);
      expect(r.stderr.trim()).not.toBe('');
      expect(r.stderr).not.toMatch(/\n\s+at .*:\d+:\d+/); // no stack trace without --verbose
    }
  });
});
