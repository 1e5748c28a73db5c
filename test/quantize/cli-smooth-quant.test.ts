// onnxforge quantize --smooth-quant [α] as a user runs it (the compiled CLI; npm test builds dist/ first).
import * as fs from 'fs';
import * as path from 'path';
import { encodeNpy } from '../../lib/compare/npy';
import { buildTransformerBlock, saveModel } from '../../lib/onnx';
import { runCli } from '../helpers/cli';
import { makeTempDir, removeDir } from '../helpers/temp';
import { floats } from './helpers';

let dir: string;
let model: string;
let samples: string;
beforeAll(() => {
  dir = makeTempDir();
  model = path.join(dir, 'encoder.onnx');
  saveModel(buildTransformerBlock({ seq: 8, hidden: 32, heads: 2, ffn: 64, batch: 'batch', outliers: { channels: [1, 9], scale: 30 } }), model);
  samples = path.join(dir, 'samples');
  for (let i = 0; i < 3; i++) {
    fs.mkdirSync(path.join(samples, `s${i}`), { recursive: true });
    fs.writeFileSync(path.join(samples, `s${i}`, 'input.npy'), encodeNpy({ type: 'float32', dims: [2, 8, 32], data: floats(512, i + 1) }));
  }
});
afterAll(() => removeDir(dir));

const quantizeWith = (...flags: string[]) => runCli(['quantize', model, '-o', path.join(dir, 'out.onnx'), '--mode', 'static', '--calibration', samples, '--runs', '0', ...flags]);

describe('onnxforge quantize --smooth-quant', () => {
  it('takes α = 0.5 when given no value, and reports the layers smoothed', () => {
    const r = quantizeWith('--smooth-quant', '--json');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.smoothQuant.alpha).toBe(0.5);
    // ln1 -> q, k, v (one shared s) and ln2 -> ffn.up.
    expect(report.smoothQuant.smoothed.map((s: { layers: string[] }) => s.layers.length)).toEqual([3, 1]);
  });

  it('passes a given α on and prints the smoothed layers', () => {
    const r = quantizeWith('--smooth-quant', '0.8');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('SmoothQuant α=0.8: 2 activation(s) smoothed');
    expect(r.stdout).toMatch(/ln1\.weight|LayerNormalization/);
  });

  it('without the flag, nothing is smoothed', () => {
    const r = quantizeWith('--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).smoothQuant).toBeNull();
  });

  it('refuses α outside (0, 1) and a value that is no number, with one line and no output file', () => {
    for (const [value, message] of [['1.5', 'smooth-quant α must be a number in (0, 1)'], ['abc', '--smooth-quant takes α, a number in (0, 1), got "abc"']]) {
      const out = path.join(dir, `bad-${value}.onnx`);
      const r = runCli(['quantize', model, '-o', out, '--mode', 'static', '--calibration', samples, '--smooth-quant', value]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain(message);
      expect(fs.existsSync(out)).toBe(false);
    }
  });
});
