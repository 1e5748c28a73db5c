// convert, prune and optimize write their output and then compare it with the original; when the
// comparison fails, each keeps the written output (it is complete and valid) and says so in one line.
// (quantize verifies in memory before writing, so its failed check writes nothing.)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadModel } from '../../lib/onnx';
import { runCli } from '../helpers/cli';
import { folderWithMlp } from '../helpers/temp';

const folder = folderWithMlp();

const commands: [string, (out: string, samples: string) => string[]][] = [
  ['convert', (out, samples) => ['convert', folder.mlp, '-o', out, '--dtype', 'float16', '--compare', '--inputs', samples]],
  ['prune', (out, samples) => ['prune', folder.mlp, '-o', out, '--sparsity', '0.5', '--min-params', '0', '--inputs', samples]],
  ['optimize', (out, samples) => ['optimize', folder.mlp, '-o', out, '--compare', '--inputs', samples]],
];

test.each(commands)('%s: a failed comparison keeps the written model and says so', (name, args) => {
  // A sample folder without the model's input: the comparison fails after the output is written.
  const samples = path.join(folder.dir, `samples-${name}`);
  fs.mkdirSync(path.join(samples, 's1'), { recursive: true });
  const out = path.join(folder.dir, `${name}.onnx`);
  const r = runCli(args(out, samples));
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(new RegExp(`^onnxforge: ${out.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} was written and is kept, but comparing it with the original failed: .*s1: no file for input input.*\\n$`));
  expect(loadModel(out).inputs.map((i) => i.name)).toEqual(['input']);
});
