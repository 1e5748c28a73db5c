// onnxforge quantize --mode auto and --algorithm gptq as a user runs them (the compiled CLI).
import * as fs from 'fs';
import * as path from 'path';
import { encodeNpy } from '../../lib/compare/npy';
import { buildTransformerBlock, saveModel } from '../../lib/onnx';
import { runCli } from '../helpers/cli';
import { folderWithMlp } from '../helpers/temp';
import { floats } from './helpers';

const folder = folderWithMlp();
const out = (name: string) => path.join(folder.dir, name);

/** One folder per sample holding <input>.npy. */
function writeSamples(dir: string, input: string, dims: number[], count: number, seed: number): string {
  const size = dims.reduce((a, b) => a * b, 1);
  for (let i = 0; i < count; i++) {
    fs.mkdirSync(path.join(dir, `s${i}`), { recursive: true });
    fs.writeFileSync(path.join(dir, `s${i}`, `${input}.npy`), encodeNpy({ type: 'float32', dims, data: floats(size, seed + i) }));
  }
  return dir;
}

describe('onnxforge quantize --mode auto', () => {
  it('writes the chosen model and a report with every candidate; a quantized choice is faster than float in the same measurements', () => {
    const calibration = writeSamples(out('cal'), 'input', [2, 32], 6, 1);
    const r = runCli(['quantize', folder.mlp, '-o', out('auto.onnx'), '--mode', 'auto', '--calibration', calibration, '--auto-runs', '3', '--runs', '0', '--json']);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.mode).toBe('auto');
    expect(report.auto.budget).toEqual({ minCosine: 0.99, maxAccuracyDrop: null });
    expect(report.auto.candidates.length).toBeGreaterThanOrEqual(6);
    expect(fs.existsSync(out('auto.onnx'))).toBe(true);
    expect(report.size.afterBytes).toBe(fs.statSync(out('auto.onnx')).size);
    if (report.auto.chosen === 'float') {
      expect(report.auto.reason).toMatch(/none ran faster than float|no candidate met the budget/);
    } else {
      const chosen = report.auto.candidates.find((c: { recipe: string }) => c.recipe === report.auto.chosen);
      expect(chosen.meetsBudget).toBe(true);
      expect(chosen.latencyMs * report.auto.minSpeedup).toBeLessThanOrEqual(report.auto.float.latencyMs);
    }
  });

  it('prints the candidate table', () => {
    const r = runCli(['quantize', folder.mlp, '-o', out('auto2.onnx'), '--mode', 'auto', '--calibration', out('cal'), '--auto-runs', '1', '--runs', '0', '--no-sensitivity']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/auto \(goal speed, faster means >= 1\.05x, budget cosine >= 0\.99, 6 given sample\(s\), seed 0\):/);
    expect(r.stdout).toMatch(/recipe\s+cosine\s+top-1\s+size\s+median ms\s+speed-up\s+in budget/);
    expect(r.stdout).toMatch(/static int8 per-channel entropy/);
    expect(r.stdout).toMatch(/chosen: /);
  });

  it('a max accuracy drop without labels is refused with one line', () => {
    const r = runCli(['quantize', folder.mlp, '-o', out('bad.onnx'), '--mode', 'auto', '--max-accuracy-drop', '0.01']);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/needs labelled eval data/);
    expect(fs.existsSync(out('bad.onnx'))).toBe(false);
  });
});

describe('onnxforge quantize --algorithm gptq', () => {
  it('reports RTN and GPTQ errors per layer; GPTQ\'s total layer-output error is the lower', () => {
    const model = out('encoder.onnx');
    saveModel(buildTransformerBlock({ seq: 8, hidden: 32, heads: 2, ffn: 64, seed: 1 }), model);
    const calibration = writeSamples(out('enc-cal'), 'input', [1, 8, 32], 8, 50);
    const r = runCli(['quantize', model, '-o', out('enc-gptq.onnx'), '--mode', 'weight-only', '--bits', '4', '--algorithm', 'gptq', '--act-order', '--calibration', calibration, '--runs', '0']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/RTN weight mse\s+GPTQ weight mse\s+RTN output mse\s+GPTQ output mse/);
    const ratio = Number(/GPTQ layer-output error: ([\d.]+)x round-to-nearest's/.exec(r.stdout)?.[1]);
    expect(ratio).toBeLessThan(1);
    expect(r.stdout).toMatch(/weight-only quantization \(int4\): 6 node\(s\) quantized \(MatMul 6\)/);
  });

  it('gptq outside weight-only 4-bit is refused with one line', () => {
    const r = runCli(['quantize', folder.mlp, '-o', out('bad2.onnx'), '--mode', 'dynamic', '--algorithm', 'gptq']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/gptq algorithm applies to weight-only 4-bit/);
  });
});
