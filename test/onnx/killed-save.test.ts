// A save killed with SIGKILL (no handler runs) at any step leaves, for saveModel and onnxruntime-node
// alike, either the previous model complete or the new one complete: never a new .onnx reading old
// external data or the reverse. A child process runs the real (compiled) save code and kills itself at
// a named step (ONNXFORGE_TEST_SAVE_STEP, see lib/onnx/save-step.ts); the steps are listed by the save
// itself, so a step added later is covered too. The next save into the folder removes what the killed
// one left, while the temporary files of processes still running are left alone.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildMlp, loadModel, saveModel, type Model, type SaveOptions } from '../../lib/onnx';
import { floatInput, runOrt } from './helpers';
import { makeTempDir, removeDir } from '../helpers/temp';

// The child runs the compiled library (npm test compiles dist/ first), as a user's process would.
const ROOT = path.resolve(__dirname, '../..');
const DIST_ONNX = path.join(path.basename(ROOT) === 'dist' ? ROOT : path.join(ROOT, 'dist'), 'lib/onnx/index.js');
const CHILD = `
const { buildMlp, saveModel } = require(process.argv[1]);
const spec = JSON.parse(process.argv[3]);
saveModel(buildMlp(spec.mlp), process.argv[2], spec.options);
`;

const mlp = (seed: number) => ({ inputSize: 16, hidden: [64, 64], outputSize: 4, seed });
const [OLD, NEW, LATER] = [1, 2, 3];
const INPUT = { input: floatInput([2, 16], 7) };

const single: SaveOptions = { externalData: { threshold: 256 } };
const perTensor: SaveOptions = { externalData: { threshold: 256, singleFile: false } };
const inline: SaveOptions = { externalData: false };

interface Scenario {
  name: string;
  /** How the previous model was saved; undefined: there was none. */
  before: SaveOptions | undefined;
  after: SaveOptions;
}

const scenarios: Scenario[] = [
  { name: 'external data over external data (one data file)', before: single, after: single },
  { name: 'per-tensor data files over per-tensor data files', before: perTensor, after: perTensor },
  { name: 'external data over an inline model', before: inline, after: single },
  { name: 'an inline model over external data', before: single, after: inline },
  { name: 'external data where there was no model', before: undefined, after: single },
];

interface ChildResult {
  signal: NodeJS.Signals | null;
  status: number | null;
  stderr: string;
}

function saveInChild(file: string, seed: number, options: SaveOptions, step: string): ChildResult {
  const r = spawnSync(process.execPath, ['-e', CHILD, DIST_ONNX, file, JSON.stringify({ mlp: mlp(seed), options })], {
    env: { ...process.env, ONNXFORGE_TEST_SAVE_STEP: step },
    encoding: 'utf8',
    timeout: 60000,
  });
  return { signal: r.signal, status: r.status, stderr: r.stderr };
}

/** The steps a save with these options goes through, as the save itself names them. */
function stepsOf(scenario: Scenario): string[] {
  const dir = makeTempDir();
  try {
    const file = path.join(dir, 'model.onnx');
    if (scenario.before) saveModel(buildMlp(mlp(OLD)), file, scenario.before);
    const r = saveInChild(file, NEW, scenario.after, 'list');
    if (r.status !== 0) throw new Error(`the listing save failed: ${r.stderr}`);
    return r.stderr.split('\n').filter((l) => l.startsWith('onnxforge-save-step ')).map((l) => l.slice('onnxforge-save-step '.length));
  } finally {
    removeDir(dir);
  }
}

const bytesOf = (model: Model, name: string) => {
  const data = model.initializer(name)!.data as Float32Array;
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
};

function sameInitializers(a: Model, b: Model): boolean {
  const names = a.proto.graph!.initializer.map((t) => t.name);
  return names.length === b.proto.graph!.initializer.length && names.every((n) => bytesOf(a, n).equals(bytesOf(b, n)));
}

const models = new Map([OLD, NEW, LATER].map((seed) => [seed, buildMlp(mlp(seed))]));
const outputs = new Map<number, Float32Array>();
beforeAll(async () => {
  for (const [seed, model] of models) outputs.set(seed, (await runOrt(model, INPUT)).output.data as Float32Array);
});

/** Which model the file holds, by its weights (loaded by our loader) and by what onnxruntime computes from the file. */
async function modelOnDisk(file: string): Promise<number | 'none'> {
  if (!fs.existsSync(file)) return 'none';
  const loaded = loadModel(file);
  const seeds = [...models].filter(([, m]) => sameInitializers(loaded, m)).map(([seed]) => seed);
  expect(seeds).toHaveLength(1);
  const computed = (await runOrt(file, INPUT)).output.data as Float32Array;
  expect(Array.from(computed)).toEqual(Array.from(outputs.get(seeds[0])!));
  return seeds[0];
}

const listed = scenarios.map((s) => ({ scenario: s, steps: stepsOf(s) }));

test('every save lists its steps, the atomic switch among them', () => {
  for (const { scenario, steps } of listed) {
    const external = scenario.after !== inline;
    // One data file (or one per tensor of 256 bytes or more: five of the six here) is written, placed and its staged name removed.
    const dataFiles = scenario.after === perTensor ? 5 : external ? 1 : 0;
    expect(steps.filter((s) => s.startsWith('data-written:'))).toHaveLength(dataFiles);
    expect(steps.filter((s) => s.startsWith('data-placed:'))).toHaveLength(dataFiles);
    expect(steps.filter((s) => s.startsWith('staged-data-removed:'))).toHaveLength(dataFiles);
    expect(steps.includes('switching-model-renamed')).toBe(external);
    expect(steps.includes('model-renamed')).toBe(true);
  }
});

describe.each(listed)('SIGKILL at each step of a save: $scenario.name', ({ scenario, steps }) => {
  let dir: string;
  beforeEach(() => {
    dir = makeTempDir();
  });
  afterEach(() => removeDir(dir));

  // Until the first rename onto the model file the previous model is what a reader finds; from it on, the new one.
  const switchAt = steps.findIndex((s) => s.endsWith('-renamed'));

  test.each(steps.map((step, i) => ({ step, expected: i < switchAt ? 'previous' : 'new' })))('killed at "$step": the $expected model is complete', async ({ step }) => {
    const file = path.join(dir, 'model.onnx');
    if (scenario.before) saveModel(models.get(OLD)!, file, scenario.before);
    const r = saveInChild(file, NEW, scenario.after, step);
    expect(r.signal).toBe('SIGKILL');

    const previous = scenario.before ? OLD : 'none';
    expect(await modelOnDisk(file)).toBe(steps.indexOf(step) < switchAt ? previous : NEW);

    // The next save into the folder leaves only its own files.
    const result = saveModel(models.get(LATER)!, file, scenario.after);
    expect(fs.readdirSync(dir).sort()).toEqual(['model.onnx', ...result.dataFiles.map((f) => path.basename(f))].sort());
    expect(await modelOnDisk(file)).toBe(LATER);
  });
});

test('the temporary files of a process still running are left alone', () => {
  const dir = makeTempDir();
  try {
    const file = path.join(dir, 'model.onnx');
    const live = [`.other.onnx.onnxforge-tmp-${process.ppid}-0123abcd`, `.other.onnx.onnxforge-data-${process.ppid}-0123abcd.0`];
    for (const name of live) fs.writeFileSync(path.join(dir, name), 'in progress');
    // optimizeModel stages onnxruntime's output in a temporary folder named the same way; its owner is gone.
    const deadPid = spawnSync(process.execPath, ['-e', '0']).pid as number;
    fs.mkdirSync(path.join(dir, `.model.onnx.onnxforge-tmp-${deadPid}-feedbeef`));
    fs.writeFileSync(path.join(dir, `.model.onnx.onnxforge-tmp-${deadPid}-feedbeef`, 'model.onnx'), 'partial');
    saveModel(models.get(NEW)!, file, single);
    expect(fs.readdirSync(dir).sort()).toEqual([...live, 'model.onnx', 'model.onnx.data'].sort());
  } finally {
    removeDir(dir);
  }
});
