// The same flag for the same thing in every command: outputs are -o/--output (batch's old --out is
// still accepted, hidden from the help), and a missing one is one line that says what to add.
import { runCli } from '../helpers/cli';

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
