// The convert, export-weights and optimize commands as a user runs them (the compiled CLI in dist/).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SafetensorsFile } from '../../lib/convert';
import { buildMlp, buildTransformerBlock, saveModel } from '../../lib/onnx';
import { runCli } from '../helpers/cli';
import { makeTempDir, removeDir } from '../helpers/temp';
import { REAL, realModelsAbsent } from '../helpers/real-models';
import { testWhen } from '../helpers/skip';

let dir: string;
beforeEach(() => { dir = makeTempDir('onnxforge-convert-cli-'); });
afterEach(() => removeDir(dir));

function saved(name: string, model = buildMlp({ inputSize: 16, hidden: [32], outputSize: 4 })): string {
  const file = path.join(dir, name);
  saveModel(model, file);
  return file;
}

function expectFailure(args: string[], message: RegExp): void {
  const result = runCli(args);
  expect(result.status).toBe(1);
  expect(result.stderr.trim().split('\n').filter((l) => l.startsWith('onnxforge:') || l.startsWith('error:'))).toHaveLength(1);
  expect(result.stderr).toMatch(message);
}

test('help says what each command does, including that bfloat16 does not run on the CPU provider', () => {
  const convert = runCli(['convert', '--help']);
  expect(convert.status).toBe(0);
  expect(convert.stdout.replace(/\s+/g, ' ')).toMatch(/bfloat16 models do not run on onnxruntime's CPU provider/);
  expect(convert.stdout).toMatch(/--keep-io-types/);
  expect(convert.stdout).toMatch(/LayerNormalization/);
  expect(runCli(['optimize', '--help']).stdout).toMatch(/"basic", "extended", "all"/);
  expect(runCli(['export-weights', '--help']).stdout).toMatch(/safetensors/);
});

test('convert --dtype float16 --keep-io-types: human report and JSON', () => {
  const input = saved('mlp.onnx');
  const human = runCli(['convert', input, '-o', path.join(dir, 'half.onnx'), '--dtype', 'float16', '--keep-io-types']);
  expect(human.status).toBe(0);
  expect(human.stdout).toMatch(/^size: .* \(0\.\d+x\)$/m);
  expect(human.stdout).toMatch(/^float16: 4 tensor\(s\), .* 0 clamped to the float16 range, 0 underflowed to zero$/m);
  expect(human.stdout).toMatch(/^ {2}casts: 2 inserted, 0 redundant removed \(0 -> 2\)$/m);
  const json = runCli(['convert', input, '-o', path.join(dir, 'half2.onnx'), '--dtype', 'float16', '--json']);
  const report = JSON.parse(json.stdout);
  expect(report).toMatchObject({ layout: 'inline', float: { dtype: 'float16', tensorsConverted: 4, castsInserted: 0 } });
  expect(report.sizeRatio).toBeLessThan(0.6);
});

testWhen(realModelsAbsent(REAL.vad), 'convert --compare on silero VAD (float16 inputs compared through float32 edges)', () => {
  const result = runCli(['convert', REAL.vad, '-o', path.join(dir, 'vad.onnx'), '--dtype', 'float16', '--compare', '--samples', '2',
    '--dim', 'batch=1', '--dim', 'sequence=512', '--value', 'sr=16000', '--json']);
  expect(result.status).toBe(0);
  const report = JSON.parse(result.stdout);
  expect(report.compareNote).toMatch(/float16 inputs\/outputs/);
  expect(report.compare.outputs.map((o: { name: string }) => o.name)).toEqual(['output', 'hn', 'cn']);
  for (const o of report.compare.outputs) {
    // The speech probability is one value: no cosine, its relative error instead.
    if (o.name === 'output') expect(o.cosine).toBeNull();
    else expect(o.cosine).toBeGreaterThanOrEqual(0.999);
    expect(o.maxRelativeError).toBeLessThanOrEqual(1e-2);
  }
});

test('convert --dtype bfloat16 --compare widens the result back to float32 to compare it', () => {
  const input = saved('block.onnx', buildTransformerBlock({ seq: 4, hidden: 16, heads: 2, ffn: 32 }));
  const result = runCli(['convert', input, '-o', path.join(dir, 'bf16.onnx'), '--dtype', 'bfloat16', '--compare', '--samples', '2']);
  expect(result.status).toBe(0);
  expect(result.stdout).toMatch(/bfloat16 has no onnxruntime CPU kernels: compared the result widened back to float32/);
  expect(result.stdout).toMatch(/\noutput +0\.99\d+ /);
});

test('export-weights then convert --weights --map', () => {
  const source = saved('a.onnx', buildMlp({ inputSize: 16, hidden: [32], outputSize: 4, seed: 1 }));
  const target = saved('b.onnx', buildMlp({ inputSize: 16, hidden: [32], outputSize: 4, seed: 2 }));
  const weights = path.join(dir, 'a.safetensors');
  const exported = runCli(['export-weights', source, '-o', weights, '--metadata', 'format=pt']);
  expect(exported.status).toBe(0);
  expect(exported.stdout).toMatch(/4 tensor\(s\)/);
  expect(SafetensorsFile.open(weights).metadata).toEqual({ format: 'pt' });
  const map = path.join(dir, 'map.json');
  fs.writeFileSync(map, JSON.stringify({ 'fc1.bias': null }));
  const out = path.join(dir, 'b-with-a.onnx');
  const result = runCli(['convert', target, '-o', out, '--weights', weights, '--map', map]);
  expect(result.status).toBe(0);
  expect(result.stdout).toMatch(/weights: 3 tensor\(s\) replaced from .*a\.safetensors .*, 1 ignored, 1 initializer\(s\) untouched/);
});

test('convert --external-data --no-single-file, then --inline, gives back the same bytes', () => {
  const input = saved('mlp.onnx', buildMlp({ inputSize: 64, hidden: [64], outputSize: 8 }));
  const external = path.join(dir, 'ext.onnx');
  const split = runCli(['convert', input, '-o', external, '--external-data', '--no-single-file', '--external-threshold', '1024']);
  expect(split.status).toBe(0);
  expect(split.stdout).toMatch(/layout: external data, 2 tensor\(s\) in 2 file\(s\)/);
  const back = path.join(dir, 'back.onnx');
  expect(runCli(['convert', external, '-o', back, '--inline']).status).toBe(0);
  expect(Buffer.from(fs.readFileSync(back)).equals(Buffer.from(fs.readFileSync(input)))).toBe(true);
});

test('optimize --level extended --json', () => {
  const input = saved('block.onnx', buildTransformerBlock({ seq: 4, hidden: 16, heads: 2, ffn: 32 }));
  const result = runCli(['optimize', input, '-o', path.join(dir, 'opt.onnx'), '--level', 'extended', '--json']);
  expect(result.status).toBe(0);
  const report = JSON.parse(result.stdout);
  expect(report.level).toBe('extended');
  expect(report.nodesAfter).toBeLessThan(report.nodesBefore);
});

describe('mistakes fail with one line', () => {
  test.each([
    [['--inline', '--external-data'], /--inline and --external-data contradict each other/],
    [['--keep-io-types'], /need --dtype float16 or bfloat16/],
    [['--map', 'm.json'], /--map needs --weights/],
    [['--external-threshold', '10'], /need --external-data/],
    [['--dtype', 'float8'], /argument 'float8' is invalid/],
  ])('convert %p', (extra, message) => {
    expectFailure(['convert', saved('m.onnx'), '-o', path.join(dir, 'out.onnx'), ...extra], message);
  });

  test('writing over the input', () => {
    const input = saved('m.onnx');
    expectFailure(['convert', input, '-o', input, '--dtype', 'float16'], /refusing to write over the input model/);
  });

  test('weights whose shape does not match', () => {
    const weights = path.join(dir, 'w.safetensors');
    expect(runCli(['export-weights', saved('small.onnx', buildMlp({ inputSize: 8, hidden: [4], outputSize: 2 })), '-o', weights]).status).toBe(0);
    expectFailure(['convert', saved('m.onnx'), '-o', path.join(dir, 'out.onnx'), '--weights', weights], /tensor "fc0.bias": the file holds shape \[4\], model tensor "fc0.bias" is \[32\]/);
    expect(fs.existsSync(path.join(dir, 'out.onnx'))).toBe(false);
  });

  test('optimize with an unknown level', () => {
    expectFailure(['optimize', saved('m.onnx'), '-o', path.join(dir, 'o.onnx'), '--level', 'max'], /argument 'max' is invalid/);
  });
});
