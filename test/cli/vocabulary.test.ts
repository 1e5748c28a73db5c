// The same flag for the same thing in every command: outputs are -o/--output (batch's old --out is
// still accepted, hidden from the help), and a missing one is one line that says what to add.
import * as path from 'node:path';
import { runCli } from '../helpers/cli';
import { folderWithMlp } from '../helpers/temp';

const folder = folderWithMlp();

test('batch writes to -o/--output like every other command, and --out is hidden', () => {
  const help = runCli(['batch', '--help']).stdout;
  expect(help).toMatch(/^\s+-o, --output <dir>\s+folder for the outputs/m);
  expect(help).not.toMatch(/--out </);
});

test('a batch without -o says so in one line', () => {
  const r = runCli(['batch', '--redis', 'redis://127.0.0.1:1', '--model', 'm', '--inputs', 'samples']);
  expect(r.status).toBe(1);
  expect(r.stderr).toBe('onnxforge: missing -o/--output <dir>: the folder for the outputs\n');
});

test('quantize takes its sample folders as --inputs too (the name compare, convert and prune use), hidden from the help', () => {
  expect(runCli(['quantize', '--help']).stdout).not.toMatch(/--inputs /);
  const out = path.join(folder.dir, 'out.onnx');
  const missing = path.join(folder.dir, 'no-samples');
  const viaCalibration = runCli(['quantize', folder.mlp, '-o', out, '--mode', 'static', '--calibration', missing]);
  const viaInputs = runCli(['quantize', folder.mlp, '-o', out, '--mode', 'static', '--inputs', missing]);
  expect(viaInputs.status).toBe(1);
  expect(viaInputs.stderr).toContain('no-samples');
  expect(viaInputs.stderr).toBe(viaCalibration.stderr);
  const both = runCli(['quantize', folder.mlp, '-o', out, '--mode', 'static', '--inputs', 'a/', '--calibration', 'b/']);
  expect(both.stderr).toBe('onnxforge: --inputs is another name for --calibration: give one\n');
});
