// --help prints help and runs nothing, whatever else is on the line; an option error is one line
// and a pointer to --help, not the whole help.
import * as fs from 'fs';
import * as path from 'path';
import { runCli } from '../helpers/cli';
import { folderWithMlp } from '../helpers/temp';

const folder = folderWithMlp();

describe('--help and option errors', () => {
  test('--help with a full command line prints help, writes nothing and exits 0', () => {
    const out = path.join(folder.dir, 'q.onnx');
    for (const args of [
      ['quantize', folder.mlp, '-o', out, '--mode', 'dynamic', '--help'],
      ['quantize', '--help', folder.mlp, '-o', out, '--mode', 'dynamic'],
      // An option value that would fail its parser does not hide the help asked for.
      ['quantize', folder.mlp, '-o', out, '--mode', 'dynamic', '--dim', 'not-a-pair', '-h'],
      ['export-weights', folder.mlp, '-o', path.join(folder.dir, 'w.safetensors'), '--help'],
      ['cluster', 'status', '--redis', 'redis://127.0.0.1:1', '--help'],
    ]) {
      const r = runCli(args);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: onnxforge ${args[0] === 'cluster' ? 'cluster status' : args[0]} `));
      expect(r.stderr).toBe('');
    }
    expect(fs.readdirSync(folder.dir)).toEqual(['mlp.onnx']);
  });

  test('an option error is one line with the fix and a pointer to --help, not the full help', () => {
    const cases: [string[], RegExp][] = [
      [['quantize', folder.mlp, '-o', path.join(folder.dir, 'q.onnx'), '--mode', 'fast'], /^onnxforge: option '--mode <mode>' argument 'fast' is invalid\. Allowed choices are dynamic, static, weight-only, auto\.$/],
      [['quantize', folder.mlp, '--mode', 'dynamic'], /^onnxforge: required option '-o, --output <file>' not specified$/],
      [['inspect', folder.mlp, '--bogus'], /^onnxforge: unknown option '--bogus'$/],
    ];
    for (const [args, first] of cases) {
      const r = runCli(args);
      expect(r.status).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(first);
      expect(lines[1]).toBe(`(run \`onnxforge ${args[0]} --help\` for the options)`);
      expect(r.stderr).not.toContain('Usage:');
    }
    expect(fs.readdirSync(folder.dir)).toEqual(['mlp.onnx']);
  });
});
