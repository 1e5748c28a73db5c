// onnxforge quantize as a user runs it (the compiled CLI; npm test builds dist/ first).
import * as fs from 'fs';
import * as path from 'path';
import { encodeNpy } from '../../lib/compare/npy';
import { GraphBuilder, loadModel, saveModel } from '../../lib/onnx';
import { runCli } from '../helpers/cli';
import { folderWithMlp } from '../helpers/temp';
import { floats } from './helpers';

const folder = folderWithMlp();

const out = (name: string) => path.join(folder.dir, name);

describe('onnxforge quantize', () => {
  it('explains the modes and why qoperator is the dynamic default', () => {
    const r = runCli(['quantize', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: onnxforge quantize');
    expect(r.stdout.replace(/\s+/g, ' ')).toMatch(/qoperator \(default\).*fused int8 kernels.*fast path on x86/);
  });

  it('writes a dynamic model and a JSON report with compare figures', () => {
    const r = runCli(['quantize', folder.mlp, '-o', out('dyn.onnx'), '--mode', 'dynamic', '--per-channel', '--runs', '2', '--json']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ mode: 'dynamic', format: 'qoperator', output: out('dyn.onnx'), opset: { raised: false } });
    expect(report.quantized).toHaveLength(2);
    // int8 weights: under half the file, and the sizes reported are the files on disk.
    expect(report.size).toMatchObject({ beforeBytes: fs.statSync(folder.mlp).size, afterBytes: fs.statSync(out('dyn.onnx')).size });
    expect(report.size.ratio).toBeLessThan(0.5);
    expect(report.verification.outputs[0].cosine).toBeGreaterThan(0.999);
    // --runs 2: both models timed twice, the ratio is of their medians.
    const { a, b } = report.verification;
    expect([a.latency.runs, b.latency.runs]).toEqual([2, 2]);
    expect(report.verification.latencyRatio).toBeCloseTo(b.latency.medianMs / a.latency.medianMs, 6);
    expect(loadModel(out('dyn.onnx')).graph.node.some((n) => n.opType === 'MatMulInteger')).toBe(true);
  });

  it('calibrates static ranges from a folder of .npy samples', () => {
    const samples = out('samples');
    for (let i = 0; i < 3; i++) {
      fs.mkdirSync(path.join(samples, `s${i}`), { recursive: true });
      fs.writeFileSync(path.join(samples, `s${i}`, 'input.npy'), encodeNpy({ type: 'float32', dims: [4, 32], data: floats(128, i + 1) }));
    }
    const r = runCli(['quantize', folder.mlp, '-o', out('static.onnx'), '--mode', 'static', '--calibration', samples, '--method', 'percentile', '--runs', '0']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    // The last bias Add writes the model output: it stays float.
    expect(r.stdout).toContain('static quantization (qdq): 3 node(s) quantized (MatMul 2, Add 1), 1 skipped');
    expect(r.stdout).toContain('calibration: percentile, 3 sample(s), 5 range(s)');
    expect(r.stdout).toContain('against the original (3 given sample(s))');
  });

  it('writes the model and says why verification was skipped when the original fails on generated inputs', () => {
    // Generated int64 indices (0..15) fall outside the 4-row table.
    const g = new GraphBuilder();
    g.input('index', 'int64', [3]);
    const rows = g.node('Gather', [g.initializer('table', floats(4 * 8, 1), [4, 8]), 'index']);
    g.output(g.node('MatMul', [rows, g.initializer('w', floats(8 * 6, 2), [8, 6])], ['y']), 'float32', [3, 6]);
    const model = out('gather.onnx');
    saveModel(g.build(), model);
    const r = runCli(['quantize', model, '-o', out('gather-q.onnx'), '--mode', 'dynamic', '--runs', '0']);
    expect(r.status).toBe(0);
    expect(fs.existsSync(out('gather-q.onnx'))).toBe(true);
    expect(r.stdout.split('\n')[0]).toMatch(/; not verified \(the original fails on its inputs\)$/);
    expect(r.stdout).toMatch(/verification skipped: the original model fails on generated inputs .*--value NAME=V/);
  });

  it('warns on stderr when static ranges come from generated data', () => {
    const r = runCli(['quantize', folder.mlp, '-o', out('random.onnx'), '--mode', 'static', '--calibration-samples', '2', '--no-verify']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^onnxforge: warning: static ranges come from generated random inputs/);
    expect(r.stdout).not.toContain('against the original');
  });

  it('writes 4-bit weights to external data on request', () => {
    const r = runCli(['quantize', folder.mlp, '-o', out('int4.onnx'), '--mode', 'weight-only', '--bits', '4', '--block-size', '16', '--zero-points', '--external-data', '--no-verify']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('imports added: com.microsoft');
    expect(fs.existsSync(out('int4.onnx.data'))).toBe(true);
    expect(loadModel(out('int4.onnx')).graph.node.map((n) => n.opType)).toContain('MatMulNBits');
  });

  it.each([
    [['-o', 'SAME', '--mode', 'dynamic'], /refusing to write over the input model/],
    [['-o', 'x.onnx', '--mode', 'dynamic', '--exclude', 'missing'], /exclude: no node named "missing"/],
    [['-o', 'x.onnx', '--mode', 'static', '--format', 'qoperator'], /static quantization writes the QDQ format/],
    [['-o', 'x.onnx', '--mode', 'dynamic', '--per-channel', '--per-tensor'], /contradict/],
  ])('fails with one line: %p', (args, pattern) => {
    const r = runCli(['quantize', folder.mlp, ...args.map((a) => (a === 'SAME' ? folder.mlp : a === 'x.onnx' ? out('x.onnx') : a))]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(pattern)]);
    expect(fs.existsSync(out('x.onnx'))).toBe(false);
  });

  it('rejects an unknown mode through commander', () => {
    const r = runCli(['quantize', folder.mlp, '-o', out('x.onnx'), '--mode', 'fast']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Allowed choices are dynamic, static, weight-only/);
  });
});
