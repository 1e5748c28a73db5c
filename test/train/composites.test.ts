// Whole blocks differentiated end to end against central finite differences: a pre-norm encoder layer,
// a BERT-style encoder as torch.onnx.export writes it (opset 14: decomposed LayerNorm, Shape/Gather/Concat
// reshapes, mask arithmetic, embeddings), and a conv block with BatchNormalization in training form.
// Erf and Conv run only in float32 in onnxruntime, so these differences are taken in float32: with a
// step of 1e-2 the rounding of the loss (~1e-7 of Σ|r·y| over ~10² elements, divided by the step) and
// the truncation (step² times the third derivative) both stay near 1e-3 of the gradients' scale; the
// tolerance is twice that. Every single rule is checked in float64 in the rules-*.test.ts files.
import * as ort from 'onnxruntime-node';
import { buildBertEncoder, buildTransformerBlock, GraphBuilder, makeValueInfo } from '../../lib/onnx';
import type { Model } from '../../lib/onnx/model';
import { randomNormal } from '../../lib/onnx/random';
import { serializeModel } from '../../lib/onnx/save';
import { batchNormsForTraining } from '../../lib/train/batch-norm';
import { GraphWriter } from '../../lib/train/graph-writer';
import { probeValues } from '../../lib/train/probe';
import { raiseTrainingOpset } from '../../lib/train/training-opset';
import { checkModelGradients } from './grad-check';

const TOLERANCE = 5e-3;
const STEP = 1e-2;
// With batch statistics every input moves every value, so steps cross kinks of Relu, MaxPool and
// HardSwish somewhere in the batch; the error such a crossing adds grows with the step (0.009 at 1e-2,
// 0.004 at 1e-3 here). A step of 1e-3 raises the rounding part tenfold, to ~1e-2 of the scale at most.
const KINKED_STEP = 1e-3;
const KINKED_TOLERANCE = 1e-2;

/** The model with `names` (initializers) turned into inputs, and feeds holding their values. */
function asInputs(model: Model, names: string[], feeds: Record<string, ort.Tensor>): { model: Model; feeds: Record<string, ort.Tensor> } {
  const copy = model.clone();
  const all = { ...feeds };
  for (const name of names) {
    const t = copy.initializer(name);
    if (!t) throw new Error(`no initializer ${name}`);
    all[name] = new ort.Tensor('float32', (t.data as Float32Array).slice(), t.dims);
    copy.removeInitializer(name);
    copy.graph.input.push(makeValueInfo(name, 'float32', t.dims));
  }
  copy.invalidate();
  return { model: copy, feeds: all };
}

test('pre-norm encoder layer: input, attention and MLP weights, LayerNorm scales', async () => {
  const block = buildTransformerBlock({ seq: 4, hidden: 16, heads: 2, ffn: 32, batch: 2, seed: 3 });
  const x = new ort.Tensor('float32', randomNormal(2 * 4 * 16, 4), [2, 4, 16]);
  const wrt = ['attn.q.weight', 'attn.k.weight', 'attn.v.bias', 'attn.out.weight', 'ln1.weight', 'ln2.bias', 'ffn.up.weight', 'ffn.down.bias'];
  const { model, feeds } = asInputs(block, wrt, { input: x });
  const r = await checkModelGradients(model, feeds, ['input', ...wrt], { eps: STEP, samples: 12 });
  expect(r.scale).toBeGreaterThan(0.1);
  expect(r.relativeError).toBeLessThan(TOLERANCE);
});

test('BERT-style encoder as exported at opset 14, through the training opset: embeddings, attention, decomposed LayerNorm, pooler', async () => {
  const bert = buildBertEncoder({ layers: 1, hidden: 16, heads: 2, ffn: 32, vocab: 12, maxPositions: 8, numLabels: 3, opset: 14, seed: 5 });
  raiseTrainingOpset(bert);
  const ids = new ort.Tensor('int64', BigInt64Array.from([0, 3, 3, 7, 11, 2, 0, 5, 9, 9, 1, 4], BigInt), [2, 6]);
  const mask = new ort.Tensor('int64', BigInt64Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0], BigInt), [2, 6]);
  const wrt = bert.graph.initializer.filter((t) => t.dataType === 1 && t.dims.length > 0 && Number(t.dims[0]) > 1).map((t) => t.name);
  expect(wrt).toEqual(expect.arrayContaining(['tok.weight', 'pos.weight', 'layers.0.ln1.weight', 'pool.weight', 'cls.bias']));
  const { model, feeds } = asInputs(bert, wrt, { input_ids: ids, attention_mask: mask });
  const r = await checkModelGradients(model, feeds, wrt, { eps: STEP, samples: 6 });
  expect(r.checked).toBeGreaterThan(6 * 10);
  expect(r.scale).toBeGreaterThan(0.1);
  expect(r.relativeError).toBeLessThan(TOLERANCE);
});

function convBlock(): Model {
  const g = new GraphBuilder('conv_block');
  g.input('x', 'float32', [4, 2, 6, 6]);
  const w = g.initializer('conv.weight', randomNormal(4 * 2 * 9, 1, 0.4), [4, 2, 3, 3]);
  const bn = ['bn.scale', 'bn.bias', 'bn.mean', 'bn.var'].map((name, i) => g.initializer(name, i === 3 ? new Float32Array(4).fill(1) : randomNormal(4, 10 + i, 0.3).map((v) => (i === 0 ? 1 + v : v)), [4]));
  const dw = g.initializer('dw.weight', randomNormal(4 * 9, 2, 0.4), [4, 1, 3, 3]);
  const fc = g.initializer('fc.weight', randomNormal(3 * 4, 3, 0.5), [3, 4]);
  let y = g.node('Conv', ['x', w], 1, { pads: [1, 1, 1, 1] });
  y = g.node('Relu', [g.node('BatchNormalization', [y, ...bn], 1, { epsilon: 1e-5, momentum: 0.9 })]);
  y = g.node('MaxPool', [y], 1, { kernel_shape: [2, 2], strides: [2, 2] });
  y = g.node('HardSwish', [g.node('Conv', [y, dw], 1, { group: 4, pads: [1, 1, 1, 1] })]);
  y = g.node('Flatten', [g.node('GlobalAveragePool', [y])], 1, { axis: 1 });
  g.output(g.node('Gemm', [y, fc], ['out'], { transB: 1 }), 'float32', [4, 3]);
  return g.build();
}

test('conv block: Conv, BatchNormalization (batch statistics), Relu, MaxPool, depthwise Conv, HardSwish, GlobalAveragePool, Gemm', async () => {
  const model = convBlock();
  const x = new ort.Tensor('float32', randomNormal(4 * 2 * 36, 7), [4, 2, 6, 6]);
  batchNormsForTraining(model, new GraphWriter(model, 'bn/'), await probeValues(model, { x }));
  const wrt = ['conv.weight', 'bn.scale', 'bn.bias', 'dw.weight', 'fc.weight'];
  const prepared = asInputs(model, wrt, { x });
  const r = await checkModelGradients(prepared.model, prepared.feeds, ['x', ...wrt], { eps: KINKED_STEP, samples: 12 });
  expect(r.scale).toBeGreaterThan(0.01);
  expect(r.relativeError).toBeLessThan(KINKED_TOLERANCE);
});

test('BatchNormalization in training form computes what onnxruntime\'s own training mode does', async () => {
  const g = new GraphBuilder();
  g.input('x', 'float32', [3, 4, 5, 2]);
  const params = ['s', 'b', 'm', 'v'].map((n, i) => g.initializer(n, randomNormal(4, i + 20, 0.5).map((v) => (i === 3 ? 1 + Math.abs(v) : v)), [4]));
  g.node('BatchNormalization', ['x', ...params], ['y', 'running_mean', 'running_var'], { epsilon: 1e-3, momentum: 0.8, training_mode: 1 });
  for (const o of ['y', 'running_mean', 'running_var']) g.output(o, 'float32');
  const reference = g.build({ opset: 15 });
  const x = new ort.Tensor('float32', randomNormal(3 * 4 * 5 * 2, 30, 2), [3, 4, 5, 2]);
  const expected = await (await ort.InferenceSession.create(serializeModel(reference))).run({ x });

  const ours = buildInference(params.length);
  const stats = batchNormsForTraining(ours, new GraphWriter(ours, 'bn/'), await probeValues(ours, { x }));
  for (const s of stats) ours.graph.output.push(makeValueInfo(s.updated, 'float32'));
  const got = await (await ort.InferenceSession.create(serializeModel(ours))).run({ x });
  const close = (a: ort.Tensor, b: ort.Tensor) => Array.from(a.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo((b.data as Float32Array)[i], 4));
  close(got.y, expected.y);
  close(got[stats[0].updated], expected.running_mean);
  close(got[stats[1].updated], expected.running_var);
});

function buildInference(count: number): Model {
  const g = new GraphBuilder();
  g.input('x', 'float32', [3, 4, 5, 2]);
  const params = ['s', 'b', 'm', 'v'].slice(0, count).map((n, i) => g.initializer(n, randomNormal(4, i + 20, 0.5).map((v) => (i === 3 ? 1 + Math.abs(v) : v)), [4]));
  g.output(g.node('BatchNormalization', ['x', ...params], ['y'], { epsilon: 1e-3, momentum: 0.8 }), 'float32');
  return g.build({ opset: 15 });
}
