// Students made from a teacher: layer dropping on the clean pre-norm stack and on the exporter-form BERT
// encoder, the prune specs, matched intermediate values through a learned projection, and teacher
// outputs cached to disk.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildBertEncoder, buildConvNet, buildTransformerBlock } from '../../lib/onnx';
import type { Model } from '../../lib/onnx/model';
import { randomNormal } from '../../lib/onnx/random';
import { serializeModel } from '../../lib/onnx/save';
import { distill } from '../../lib/train/distill';
import { dropLayers } from '../../lib/train/layer-drop';
import { studentFromSpec } from '../../lib/train/student';
import { makeTempDir, removeDir } from '../helpers/temp';
import { barImages, majorityTokens, sequenceVocab } from './tasks';

async function run(model: Model, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(serializeModel(model));
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

const stack = () => buildTransformerBlock({ seq: 5, hidden: 16, heads: 2, ffn: 32, layers: 4, classes: 3, batch: 2, seed: 9 });
const x = () => new ort.Tensor('float32', randomNormal(2 * 5 * 16, 1), [2, 5, 16]);

/** A pre-norm block whose attention and MLP write zeros into the residual stream is the identity. */
function silence(model: Model, blocks: number[]): Model {
  const copy = model.clone();
  for (const b of blocks) {
    for (const name of [`layer${b}.attn.out.weight`, `layer${b}.attn.out.bias`, `layer${b}.ffn.down.weight`, `layer${b}.ffn.down.bias`]) {
      const t = copy.initializer(name)!;
      copy.setInitializer(name, new Float32Array((t.data as Float32Array).length), t.dims);
    }
  }
  return copy;
}

describe('layer dropping', () => {
  test.each([[[0, 2]], [[1, 3]], [[0]], [[3]], [[1, 2]]])('keeping blocks %j of a 4-block pre-norm stack computes the stack with the other blocks made identities', async (keep) => {
    const teacher = stack();
    const { model, layers, dropped } = dropLayers(teacher, keep);
    expect(layers).toBe(4);
    expect(dropped).toEqual([0, 1, 2, 3].filter((b) => !keep.includes(b)));
    const names = model.graph.initializer.map((t) => t.name);
    for (const b of [0, 1, 2, 3]) expect(names.some((n) => n.startsWith(`layer${b}.`))).toBe(keep.includes(b));
    const feeds = { input: x() };
    const [got, want] = [await run(model, feeds), await run(silence(teacher, dropped), feeds)];
    for (const o of ['output', 'logits']) {
      (want[o].data as Float32Array).forEach((v, i) => expect((got[o].data as Float32Array)[i]).toBeCloseTo(v, 4));
    }
  });

  test('the exporter-form BERT encoder (post-norm, scoped names, shape chains) keeping blocks 0 and 2 of 4 is a 2-block encoder with their weights', async () => {
    const sizes = { hidden: 16, heads: 2, ffn: 32, vocab: 12, maxPositions: 8, numLabels: 3, seed: 2 };
    const teacher = buildBertEncoder({ ...sizes, layers: 4 });
    const { model } = dropLayers(teacher, [0, 2]);
    const values = model.graph.node.flatMap((n) => n.output);
    expect(values.some((o) => o.startsWith('/layers.1/') || o.startsWith('/layers.3/'))).toBe(false);
    // The builder writes weights in graph order, so a 2-block encoder lists them as the kept blocks do.
    const twoBlocks = buildBertEncoder({ ...sizes, layers: 2 });
    const kept = model.initializers();
    expect(kept.map((t) => t.dims)).toEqual(twoBlocks.initializers().map((t) => t.dims));
    twoBlocks.graph.initializer.forEach((t, i) => twoBlocks.setInitializer(t.name, kept[i].data, kept[i].dims));
    const feeds = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from([0, 1, 5, 9, 2, 0, 3, 3, 4, 11], BigInt), [2, 5]),
      attention_mask: new ort.Tensor('int64', BigInt64Array.from([1, 1, 1, 1, 1, 1, 1, 1, 0, 0], BigInt), [2, 5]),
    };
    const [got, want] = [await run(model, feeds), await run(twoBlocks, feeds)];
    (want.logits.data as Float32Array).forEach((v, i) => expect((got.logits.data as Float32Array)[i]).toBeCloseTo(v, 5));
  });

  test('a model without a numbered stack, and blocks that do not exist, are refused', () => {
    expect(() => dropLayers(buildConvNet({ channels: 1, size: 8, classes: 2 }), [0])).toThrow(/no repeated stack/);
    expect(() => dropLayers(stack(), [0, 4])).toThrow(/block 4 does not exist: the model has blocks 0..3/);
  });
});

describe('student specs', () => {
  test('prune specs run the pruning pass on the teacher', () => {
    const teacher = buildConvNet({ channels: 1, size: 8, classes: 3, widths: [8, 16], batch: 'batch' });
    const channel = studentFromSpec(teacher, 'prune:channel=0.5,min-params=0');
    expect(channel.model.initializer('conv0.weight')?.dims).toEqual([4, 1, 3, 3]);
    expect(channel.description).toMatch(/^channel pruning of 2 channel group\(s\)/);
    const sparse = studentFromSpec(teacher, 'prune:unstructured=0.75,min-params=0');
    const w = sparse.model.initializer('conv1.weight')?.data as Float32Array;
    expect(w.filter((v) => v === 0).length / w.length).toBeCloseTo(0.75, 2);
    expect(studentFromSpec(teacher, 'prune:2:4,min-params=0').description).toMatch(/^2:4 pruning/);
  });

  test.each([
    ['prune:channel=1.5', /sparsity in \(0, 1\)/],
    ['prune:channel=0.5,depth=3', /unknown setting "depth"/],
    ['prune:channel=0.5', /pruned nothing/],
    ['layers:keep=a', /unknown student spec/],
    ['shrink', /unknown student spec "shrink": expected prune:channel=S/],
  ])('%s is refused', (spec, message) => {
    expect(() => studentFromSpec(buildConvNet({ channels: 1, size: 8, classes: 3, batch: 'batch' }), spec)).toThrow(message);
  });
});

describe('distillation with matched values and cached teacher outputs', () => {
  let dir: string;
  beforeAll(() => (dir = makeTempDir('onnxforge-students-')));
  afterAll(() => removeDir(dir));

  test('the MLP activations of a channel-pruned encoder are pulled toward the teacher\'s through a learned projection', async () => {
    const teacher = buildBertEncoder({ layers: 1, hidden: 16, heads: 2, ffn: 32, vocab: sequenceVocab(3), maxPositions: 8, numLabels: 3, seed: 4 });
    const data = majorityTokens(256, 8, 3);
    const activation = teacher.graph.node.find((n) => n.output[0] === '/layers.0/f2/MatMul_output_0')!.input[0];
    const options = { steps: 40, learningRate: 3e-3, matches: [{ teacher: activation, student: activation }] };
    const { model, report } = await distill(teacher, 'prune:channel=0.5,min-params=0', { inputs: data.inputs, size: 256 }, options);
    expect(report.matches).toEqual(options.matches);
    expect(report.training.loss.last).toBeLessThan(report.training.loss.first / 2);
    // The projection trains with the student and is not part of it.
    expect(model.graph.initializer.some((t) => t.name.includes('projection'))).toBe(false);
    expect(model.graph.input.map((i) => i.name)).toEqual(['input_ids', 'attention_mask']);
  });

  test('teacher outputs cached once are read back by the next run, which then trains identically', async () => {
    const teacher = buildConvNet({ channels: 1, size: 8, classes: 4, widths: [8, 16], batch: 'batch', seed: 3 });
    const data = barImages(128, 8, 5);
    const cache = path.join(dir, 'teacher.safetensors');
    const options = { steps: 10, cacheTeacher: cache, seed: 1 };
    const first = await distill(teacher, 'prune:channel=0.5,min-params=0', { inputs: data.inputs, size: 128 }, options);
    const second = await distill(teacher, 'prune:channel=0.5,min-params=0', { inputs: data.inputs, size: 128 }, options);
    const computed = await distill(teacher, 'prune:channel=0.5,min-params=0', { inputs: data.inputs, size: 128 }, { steps: 10, seed: 1 });
    expect([first.report.teacherOutputs, second.report.teacherOutputs, computed.report.teacherOutputs]).toEqual(['cached', 'loaded', 'computed']);
    expect(fs.existsSync(cache)).toBe(true);
    const weights = (m: Model) => m.initializers().map((t) => Array.from(t.data as Float32Array));
    expect(weights(second.model)).toEqual(weights(first.model));
    expect(weights(computed.model)).toEqual(weights(first.model));
    await expect(distill(teacher, 'prune:channel=0.5,min-params=0', { inputs: { input: { ...data.inputs.input, dims: [64, 1, 8, 8], data: (data.inputs.input.data as Float32Array).slice(0, 64 * 64) } }, size: 64 }, options))
      .rejects.toThrow(/holds teacher outputs for other data \(128 samples/);
  });
});
