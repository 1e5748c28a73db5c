import * as fs from 'fs';
import * as path from 'path';
import { buildIfModel, GraphBuilder, saveModel, serializeModel } from '../../lib/onnx';
import { runCli } from '../helpers/cli';
import { folderWithMlp } from '../helpers/temp';

const folder = folderWithMlp();

function expectOneLineFailure(args: string[], pattern: RegExp, env: NodeJS.ProcessEnv = {}): void {
  const r = runCli(args, env);
  expect(r.status).toBe(1);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^onnxforge: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace without --verbose
}

describe('onnxforge CLI', () => {
  test('--version and --help for every command', () => {
    const version = JSON.parse(fs.readFileSync(path.join(__dirname, '../../package.json'), 'utf8')).version;
    expect(runCli(['--version']).stdout.trim()).toBe(version);
    for (const command of ['inspect', 'compare', 'cpu', 'demo']) {
      const r = runCli([command, '--help']);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(`Usage: onnxforge ${command}`);
    }
  });

  test('inspect prints a summary and --json data', () => {
    const human = runCli(['inspect', folder.mlp, '--dim', 'batch=2']);
    expect(human.status).toBe(0);
    expect(human.stdout).toMatch(/nodes: 5 — Add 2, MatMul 2, Relu 1/);
    expect(human.stdout).toMatch(/MACs \(MatMul\/Gemm\/Conv\): 5\.4k over 2 node/);
    const json = JSON.parse(runCli(['inspect', folder.mlp, '--json']).stdout);
    expect(json.parameters.count).toBe(32 * 64 + 64 + 64 * 10 + 10);
    expect(json.opsets).toEqual([{ domain: 'ai.onnx', version: expect.any(Number) }]);
  });

  test('inspect lists If bodies', () => {
    const file = path.join(folder.dir, 'if.onnx');
    saveModel(buildIfModel(), file);
    const json = JSON.parse(runCli(['inspect', file, '--json']).stdout);
    expect(json.opCounts.If).toBe(1);
    expect(json.subgraphs.length).toBeGreaterThanOrEqual(2);
  });

  test('compare --json on a model and its copy', () => {
    const copy = path.join(folder.dir, 'mlp-copy.onnx');
    fs.copyFileSync(folder.mlp, copy);
    const r = runCli(['compare', folder.mlp, copy, '--dim', 'batch=2', '--samples', '2', '--runs', '2', '--json']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.outputs[0]).toMatchObject({ name: 'output', cosine: 1, maxAbsError: 0 });
    expect(report.a.latency.runs).toBe(2);
  });

  test('demo quantizes the built-in encoder block and compares it with the original', () => {
    const out = path.join(folder.dir, 'demo');
    const r = runCli(['demo', '-o', out, '--json']);
    expect(r.status).toBe(0);
    const result = JSON.parse(r.stdout);
    // The six weight MatMuls (Q, K, V, output projection, FFN up and down); the two attention MatMuls multiply activations.
    expect(result.quantize.quantized).toHaveLength(6);
    expect(result.compare.outputs[0].cosine).toBeGreaterThan(0.99);
    expect(result.compare.b.fileBytes).toBeLessThan(result.compare.a.fileBytes / 3);
    expect(fs.readdirSync(out).sort()).toEqual(['encoder-block.int8.onnx', 'encoder-block.onnx']);
  });

  test('demo without --out removes the temporary folder it made', () => {
    const tmp = path.join(folder.dir, 'tmp');
    fs.mkdirSync(tmp);
    const r = runCli(['demo', '--json'], { TMPDIR: tmp });
    expect(r.status).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.kept).toBe(false);
    expect(path.dirname(result.dir)).toBe(tmp);
    // onnxruntime itself leaves .ses and mat-debug-<pid>.log in TMPDIR; the demo's folder must be gone.
    const demoFolders = () => fs.readdirSync(tmp).filter((f) => f.startsWith('onnxforge-'));
    expect(fs.existsSync(result.dir)).toBe(false);
    expect(demoFolders()).toEqual([]);
    expect(runCli(['demo'], { TMPDIR: tmp }).stdout).toMatch(/next: keep the models with --out DIR/);
    expect(demoFolders()).toEqual([]);
  });

  test('cpu --json reports the ISA level, capped by ONNXFORGE_ISA', () => {
    const info = JSON.parse(runCli(['cpu', '--json'], { ONNXFORGE_ISA: 'scalar' }).stdout);
    expect(info.isa).toBe('scalar');
    expect(info.isaCap).toBe('scalar');
  });

  test('bad input: one-line reason, exit code 1', () => {
    const garbage = path.join(folder.dir, 'garbage.onnx');
    fs.writeFileSync(garbage, Buffer.from('this is not a protobuf model at all \xff\xff\xff'));
    const empty = path.join(folder.dir, 'empty.onnx');
    fs.writeFileSync(empty, '');
    const truncated = path.join(folder.dir, 'truncated.onnx');
    fs.writeFileSync(truncated, fs.readFileSync(folder.mlp).subarray(0, 200));
    expectOneLineFailure(['inspect', garbage], /garbage\.onnx/);
    expectOneLineFailure(['inspect', empty], /empty/);
    expectOneLineFailure(['inspect', truncated], /truncated\.onnx/);
    expectOneLineFailure(['inspect', folder.dir], /directory/);
    expectOneLineFailure(['inspect', path.join(folder.dir, 'missing.onnx')], /missing\.onnx/);
    expectOneLineFailure(['compare', folder.mlp, garbage], /garbage\.onnx/);
    const cyclic = new GraphBuilder('cycle');
    cyclic.input('x', 'float32', [2]);
    cyclic.node('Add', ['x', 'b'], ['a']);
    cyclic.node('Relu', ['a'], ['b']);
    cyclic.output('b', 'float32', [2]);
    const cycleFile = path.join(folder.dir, 'cycle.onnx');
    fs.writeFileSync(cycleFile, serializeModel(cyclic.build({ validate: false })));
    expectOneLineFailure(['inspect', cycleFile], /cycle/);
    const dangling = new GraphBuilder('dangling');
    dangling.input('x', 'float32', [2]);
    dangling.node('Add', ['x', 'nowhere'], ['y']);
    dangling.output('y', 'float32', [2]);
    const danglingFile = path.join(folder.dir, 'dangling.onnx');
    fs.writeFileSync(danglingFile, serializeModel(dangling.build({ validate: false })));
    expectOneLineFailure(['inspect', danglingFile], /nowhere/);
    const huge = new GraphBuilder('huge');
    huge.input('x', 'float32', [2]);
    huge.initializer('w', new Float32Array(2), [2]);
    huge.node('Add', ['x', 'w'], ['y']);
    huge.output('y', 'float32', [2]);
    const hugeModel = huge.build({ validate: false });
    hugeModel.graph.initializer[0].dims = [2n ** 40n, 2n ** 40n];
    const hugeFile = path.join(folder.dir, 'huge.onnx');
    fs.writeFileSync(hugeFile, serializeModel(hugeModel));
    expectOneLineFailure(['inspect', hugeFile], /2\^53/);
    expectOneLineFailure(['cpu'], /ONNXFORGE_ISA=avx9 is not a known ISA level/, { ONNXFORGE_ISA: 'avx9' });
    expectOneLineFailure(['inspect', folder.mlp, '--top', '0'], /positive integer/);
  });
});
