// The training loop's promises on a small MLP: a run is deterministic for a seed, a run stopped and
// resumed from its checkpoint ends exactly where an uninterrupted run does, frozen weights stay as they
// were, SGD with momentum learns too, and the trained model is a plain inference model.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildMlp } from '../../lib/onnx';
import type { Model } from '../../lib/onnx/model';
import { randomNormal } from '../../lib/onnx/random';
import { loadCheckpoint } from '../../lib/train/checkpoint';
import type { Dataset } from '../../lib/train/dataset';
import { train } from '../../lib/train/train';
import { makeTempDir, removeDir } from '../helpers/temp';

/** Points in 8-D labelled by which of 3 random linear scores is largest. */
function linearTask(samples: number, seed: number): Dataset {
  const [d, classes] = [8, 3];
  const x = randomNormal(samples * d, seed);
  const w = randomNormal(d * classes, 1000);
  const labels = new BigInt64Array(samples);
  for (let s = 0; s < samples; s++) {
    const score = (c: number) => Array.from({ length: d }, (_, k) => x[s * d + k] * w[k * classes + c]).reduce((a, b) => a + b, 0);
    labels[s] = BigInt([0, 1, 2].reduce((best, c) => (score(c) > score(best) ? c : best), 0));
  }
  return { inputs: { input: { type: 'float32', dims: [samples, d], data: x } }, labels: { type: 'int64', dims: [samples], data: labels }, size: samples };
}

const mlp = (): Model => buildMlp({ inputSize: 8, hidden: [32], outputSize: 3, seed: 3 });
const data = linearTask(512, 1);
const held = linearTask(256, 2);

function weights(model: Model): Record<string, number[]> {
  return Object.fromEntries(model.initializers().map((t) => [t.name, Array.from(t.data as Float32Array)]));
}

let dir: string;
beforeAll(() => (dir = makeTempDir('onnxforge-train-')));
afterAll(() => removeDir(dir));

test('AdamW learns the task, and the result is a plain inference model with the original graph', async () => {
  const source = mlp();
  const { model, report } = await train(source, data, { epochs: 20, learningRate: 3e-3, eval: held });
  expect(report.before.accuracy).toBeLessThan(0.6);
  expect(report.after.accuracy).toBeGreaterThan(0.9);
  expect(report.training.loss.last).toBeLessThan(report.training.loss.first / 3);
  expect(report.training.steps).toBe(20 * Math.floor(512 / 32));
  expect(model.graph.node.map((n) => n.opType)).toEqual(source.graph.node.map((n) => n.opType));
  expect(model.graph.initializer.map((t) => t.name)).toEqual(source.graph.initializer.map((t) => t.name));
  expect(model.inputs.map((i) => i.name)).toEqual(['input']);
});

test('SGD with momentum and a cosine schedule learns the task too', async () => {
  const { report } = await train(mlp(), data, { epochs: 20, optimizer: 'sgd', learningRate: 0.05, schedule: 'cosine', eval: held });
  expect(report.after.accuracy).toBeGreaterThan(0.9);
});

test('a run is deterministic for a seed, and the seed decides the batch order', async () => {
  const options = { steps: 30, learningRate: 3e-3, seed: 5 };
  const a = await train(mlp(), data, options);
  const b = await train(mlp(), data, options);
  const c = await train(mlp(), data, { ...options, seed: 6 });
  expect(weights(b.model)).toEqual(weights(a.model));
  expect(weights(c.model)).not.toEqual(weights(a.model));
});

test('frozen weights keep their values', async () => {
  const source = mlp();
  const { model, report } = await train(source, data, { steps: 20, freeze: ['fc0.*'] });
  expect(weights(model)['fc0.weight']).toEqual(weights(source)['fc0.weight']);
  expect(weights(model)['fc0.bias']).toEqual(weights(source)['fc0.bias']);
  expect(weights(model)['fc1.weight']).not.toEqual(weights(source)['fc1.weight']);
  expect(report.training.tensors).toBe(2);
});

test('stopped after 20 of 40 steps and resumed from the checkpoint, a run ends where an uninterrupted one does', async () => {
  const options = { steps: 40, learningRate: 3e-3, seed: 2 };
  const whole = await train(mlp(), data, options);
  const checkpoint = path.join(dir, 'run.ckpt');
  const stop = new AbortController();
  const first = await train(mlp(), data, {
    ...options, checkpoint, checkpointEvery: 15, signal: stop.signal,
    onProgress: (p) => p.step === 20 && stop.abort(),
  });
  expect(first.report.training).toMatchObject({ steps: 20, interrupted: true });
  expect(loadCheckpoint(checkpoint).step).toBe(20);
  const resumed = await train(mlp(), data, { ...options, resume: checkpoint });
  expect(resumed.report.training).toMatchObject({ steps: 40, resumedAt: 20, interrupted: false });
  expect(weights(resumed.model)).toEqual(weights(whole.model));
  expect(fs.readdirSync(dir)).toEqual(['run.ckpt']);
});

test('bad options are refused before any work', async () => {
  await expect(train(mlp(), data, { steps: 10, epochs: 2 })).rejects.toThrow(/steps or epochs, not both/);
  await expect(train(mlp(), data, { batch: 1000 })).rejects.toThrow(/larger than the 512 training samples/);
  await expect(train(mlp(), { ...data, labels: undefined })).rejects.toThrow(/needs labels/);
  await expect(train(mlp(), data, { learningRate: -1 })).rejects.toThrow(/learning rate must be positive/);
});
