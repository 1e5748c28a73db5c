// --eval DIR --eval-labels labels.npy: top-1 accuracy of both models against true labels. The models
// here are classifiers whose predicted class the inputs choose (logits = x, or x with classes 0 and 1
// swapped), so every accuracy is known exactly.
import * as fs from 'fs';
import * as path from 'path';
import { compareModels } from '../../lib/compare/compare';
import { encodeNpy } from '../../lib/compare/npy';
import { readLabels } from '../../lib/compare/labelled-accuracy';
import { GraphBuilder, saveModel, serializeModel } from '../../lib/onnx';
import { quantize } from '../../lib/quantize';
import { evalDataFrom } from '../../lib/cli/compare-options';
import { makeTempDir, removeDir } from '../helpers/temp';
import { runCli } from '../helpers/cli';

const CLASSES = 4;

/** logits = x W with W a permutation: identity, or classes 0 and 1 swapped. */
function classifier(swap: boolean) {
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', ['batch', CLASSES]);
  const w = new Float32Array(CLASSES * CLASSES);
  for (let i = 0; i < CLASSES; i++) {
    const j = swap && i < 2 ? 1 - i : i;
    w[i * CLASSES + j] = 1;
  }
  g.output(g.node('MatMul', [x, g.initializer('w', w, [CLASSES, CLASSES])], ['logits']), 'float32', ['batch', CLASSES]);
  return g.build();
}

/** A one-hot-ish input whose argmax is `cls`. */
const pointing = (cls: number, rows = 1) => {
  const data = new Float32Array(rows * CLASSES).fill(0.1);
  for (let r = 0; r < rows; r++) data[r * CLASSES + cls] = 1;
  return { type: 'float32' as const, dims: [rows, CLASSES], data };
};

describe('top-1 accuracy against labels', () => {
  let dir: string;
  // Inputs point at classes 0, 1, 2, 3, 0, 2; the labels agree with the inputs except sample 5 (labelled 3).
  // A (identity) is right on 5 of 6. B (0 <-> 1 swapped) is wrong on samples 0, 1 and 4 as well: 2 of 6.
  const classes = [0, 1, 2, 3, 0, 2];
  const labels = [0, 1, 2, 3, 0, 3];
  beforeAll(() => {
    dir = makeTempDir();
    classes.forEach((c, i) => {
      fs.mkdirSync(path.join(dir, 'eval', `s${i}`), { recursive: true });
      fs.writeFileSync(path.join(dir, 'eval', `s${i}`, 'x.npy'), encodeNpy(pointing(c)));
    });
    fs.writeFileSync(path.join(dir, 'labels.npy'), encodeNpy({ type: 'int64', dims: [6], data: BigInt64Array.from(labels.map(BigInt)) }));
    fs.writeFileSync(path.join(dir, 'short.npy'), encodeNpy({ type: 'int64', dims: [5], data: BigInt64Array.from(labels.slice(0, 5).map(BigInt)) }));
    fs.writeFileSync(path.join(dir, 'float.npy'), encodeNpy({ type: 'float32', dims: [6], data: Float32Array.from(labels) }));
    saveModel(classifier(false), path.join(dir, 'a.onnx'));
    saveModel(classifier(true), path.join(dir, 'b.onnx'));
  });
  afterAll(() => removeDir(dir));

  it('compareModels reports each model\'s accuracy and the drop', async () => {
    const report = await compareModels(serializeModel(classifier(false)), serializeModel(classifier(true)), {
      latencyRuns: 0, eval: { dir: path.join(dir, 'eval'), labels: path.join(dir, 'labels.npy') },
    });
    expect(report.accuracy).toEqual({ rows: 6, output: 'logits', a: 5 / 6, b: 2 / 6, drop: 3 / 6 });
  });

  it('a sample of batch 3 takes three labels', async () => {
    const samples = [{ x: pointing(2, 3) }, { x: pointing(1) }];
    const report = await compareModels(serializeModel(classifier(false)), serializeModel(classifier(true)), {
      latencyRuns: 0, eval: { samples, labels: [2, 2, 0, 1] },
    });
    expect(report.accuracy).toMatchObject({ rows: 4, a: 3 / 4, b: 2 / 4 });
  });

  it('quantize\'s verification carries the accuracy of both models', async () => {
    const { report } = await quantize(classifier(false), {
      mode: 'dynamic', latencyRuns: 0, eval: { dir: path.join(dir, 'eval'), labels: path.join(dir, 'labels.npy') },
    });
    // Dynamic int8 keeps a clear argmax: the quantized classifier is as accurate as the float one.
    expect(report.verification?.accuracy).toMatchObject({ rows: 6, a: 5 / 6, b: 5 / 6, drop: 0 });
  });

  it('labels that do not match the samples, or are not integers, are refused with a clear error', async () => {
    const run = (labelsFile: string) => compareModels(serializeModel(classifier(false)), serializeModel(classifier(true)), {
      latencyRuns: 0, eval: { dir: path.join(dir, 'eval'), labels: path.join(dir, labelsFile) },
    });
    await expect(run('short.npy')).rejects.toThrow(/6 prediction\(s\) but the labels file holds 5 label\(s\)/);
    expect(() => readLabels(path.join(dir, 'float.npy'))).toThrow(/int64 .* class indices, the file holds float32/);
    expect(() => readLabels(path.join(dir, 'missing.npy'))).toThrow(/no such labels file/);
    expect(() => evalDataFrom({ eval: 'x' })).toThrow(/--eval and --eval-labels go together/);
  });

  it('onnxforge compare --eval --eval-labels prints both accuracies', () => {
    const result = runCli(['compare', path.join(dir, 'a.onnx'), path.join(dir, 'b.onnx'), '--runs', '0',
      '--eval', path.join(dir, 'eval'), '--eval-labels', path.join(dir, 'labels.npy'), '--json']);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout).accuracy).toMatchObject({ a: 5 / 6, b: 2 / 6 });
    const text = runCli(['compare', path.join(dir, 'a.onnx'), path.join(dir, 'b.onnx'), '--runs', '0',
      '--eval', path.join(dir, 'eval'), '--eval-labels', path.join(dir, 'labels.npy')]);
    expect(text.stdout).toMatch(/top-1 accuracy on 6 labelled row\(s\) of logits: A .* 83\.33%, B .* 33\.33% \(drop 50\.00 points\)/);
  });
});
