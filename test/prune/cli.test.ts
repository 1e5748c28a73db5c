import * as fs from 'fs';
import * as path from 'path';
import { buildMlp, buildTransformerBlock, loadModel, saveModel } from '../../lib/onnx';
import { runCli } from '../helpers/cli';
import { makeTempDir, removeDir } from '../helpers/temp';

let dir: string;
let mlp: string;
let block: string;
beforeAll(() => {
  dir = makeTempDir();
  mlp = path.join(dir, 'mlp.onnx');
  block = path.join(dir, 'block.onnx');
  saveModel(buildMlp({ inputSize: 64, hidden: [128], outputSize: 16 }), mlp);
  saveModel(buildTransformerBlock({ seq: 8, hidden: 32, heads: 4, ffn: 128 }), block);
});
afterAll(() => removeDir(dir));

function expectOneLineFailure(args: string[], pattern: RegExp): void {
  const r = runCli(args);
  expect(r.status).toBe(1);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

describe('onnxforge prune', () => {
  test('2:4 with --json: a report with per-layer sparsity and compare figures; inspect then sees the pattern', () => {
    const out = path.join(dir, 'mlp-24.onnx');
    const r = runCli(['prune', mlp, '-o', out, '--pattern', '2:4', '--min-params', '0', '--runs', '2', '--samples', '1', '--json']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.layers.map((l: { weight: string; sparsity: number }) => [l.weight, l.sparsity])).toEqual([['fc0.weight', 0.5], ['fc1.weight', 0.5]]);
    expect(report.compare.outputs[0].name).toBe('output');
    expect(report.compare.b.latency.runs).toBe(2);
    expect(report.notes[0]).toMatch(/distillation/);
    const inspect = JSON.parse(runCli(['inspect', out, '--json']).stdout);
    expect(inspect.sparsity.map((l: { weight: string; sparsity: number; pattern: string }) => [l.weight, l.sparsity, l.pattern]))
      .toEqual([['fc0.weight', 0.5, '2:4'], ['fc1.weight', 0.5, '2:4']]);
    expect(runCli(['inspect', out]).stdout).toMatch(/sparse layers.*\n.*fc0\.weight .* 50\.0%\s+2:4/);
  });

  test('channel pruning prints what was removed, what was left alone and why, and the figures', () => {
    const out = path.join(dir, 'block-channel.onnx');
    const r = runCli(['prune', block, '-o', out, '--pattern', 'channel', '--sparsity', '0.5', '--min-params', '0', '--runs', '2', '--samples', '1']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/channel pruning at sparsity 0\.5 \(layer scope\), 1 channel group\(s\) pruned/);
    expect(r.stdout).toMatch(/128 -> 64/);
    expect(r.stdout).toMatch(/left alone \(5\):/);
    expect(r.stdout).toMatch(/channels reach Reshape/);
    expect(r.stdout).toMatch(/speed-up in onnxruntime: \d+\.\d\dx/);
    expect(r.stdout).toMatch(/note: pruning without fine-tuning costs accuracy/);
    expect(loadModel(out).initializer('ffn.up.weight')!.dims).toEqual([32, 64]);
    expect(fs.statSync(out).size).toBeLessThan(fs.statSync(block).size);
  });

  test('a model with external data is pruned and compared from its files, as the same model inline is', () => {
    const source = path.join(dir, 'external', 'block.onnx');
    fs.mkdirSync(path.dirname(source));
    saveModel(buildTransformerBlock({ seq: 8, hidden: 32, heads: 4, ffn: 128 }), source, { externalData: { threshold: 256 } });
    const prune = (input: string, out: string) => {
      const r = runCli(['prune', input, '-o', out, '--pattern', 'channel', '--sparsity', '0.5', '--min-params', '0', '--runs', '1', '--samples', '1', '--json']);
      expect(r.status).toBe(0);
      return JSON.parse(r.stdout).compare;
    };
    const external = prune(source, path.join(dir, 'external-pruned.onnx'));
    const inline = prune(block, path.join(dir, 'inline-pruned.onnx'));
    expect(external.a.fileBytes).toBe(fs.statSync(source).size + fs.statSync(`${source}.data`).size);
    expect(external.outputs).toEqual(inline.outputs);
    // Half the FFN channels of an untrained block, without fine-tuning: the output keeps its direction.
    expect(external.outputs[0].cosine).toBeGreaterThan(0.8);
    const weight = (file: string) => loadModel(file).initializer('ffn.down.weight')!;
    expect(weight(path.join(dir, 'external-pruned.onnx')).dims).toEqual([64, 32]);
    expect(weight(path.join(dir, 'external-pruned.onnx')).data).toEqual(weight(path.join(dir, 'inline-pruned.onnx')).data);
  });

  test('--no-compare skips onnxruntime; unmatched patterns are warned about', () => {
    const r = runCli(['prune', mlp, '-o', path.join(dir, 'mlp-u.onnx'), '--sparsity', '0.9', '--min-params', '0', '--exclude', 'nothing*', '--no-compare', '--json']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.compare).toBeNull();
    expect(report.warnings).toEqual(['--exclude nothing* matched no layer']);
  });

  test('bad requests fail with one line', () => {
    expectOneLineFailure(['prune', mlp, '-o', mlp, '--sparsity', '0.5'], /refusing to write over the input model/);
    expectOneLineFailure(['prune', mlp, '-o', path.join(dir, 'x.onnx'), '--sparsity', '1.5'], /expected a fraction in \[0, 1\)/);
    expectOneLineFailure(['prune', mlp, '-o', path.join(dir, 'x.onnx'), '--pattern', '2:4', '--sparsity', '0.8'], /keeps 2 of every 4 weights/);
    expectOneLineFailure(['prune', mlp, '-o', path.join(dir, 'x.onnx')], /pattern unstructured needs a sparsity/);
    expect(fs.existsSync(path.join(dir, 'x.onnx'))).toBe(false);
  });
});
