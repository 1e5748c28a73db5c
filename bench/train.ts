// npm run bench -- train [--quick] [--budget=MS] [--threads=N] [--out=DIR]: what one distillation step costs.
// A training step (student forward, KL loss against fed teacher logits, backward, AdamW update: one
// onnxruntime-node run of the training graph) against the same student's forward pass in
// onnxruntime-node, same batch (32), same thread settings, interleaved after warm-up in the same run.
// A step does about 3x the forward's arithmetic; the target is at most 4x the forward's time.
// Models: the BERT-style encoder and the conv net of the distillation tests, and larger versions of both.
// Then the distillation figures of distill-figures.ts.
// Writes train.json and train.md (to bench/results/ with --write).
import * as os from 'os';
import * as ort from 'onnxruntime-node';
import { ortSessionOptions } from '../lib/engine/ort-engine';
import { buildBertEncoder, buildConvNet } from '../lib/onnx';
import type { Model } from '../lib/onnx/model';
import { serializeModel } from '../lib/onnx/save';
import { makeValueInfo } from '../lib/onnx/value-info';
import { resolveTrainOptions } from '../lib/train/options';
import { logitsOutput } from '../lib/train/outputs';
import { buildTrainingGraph } from '../lib/train/training-graph';
import { TrainingSession } from '../lib/train/training-session';
import { lcgFloats } from './data';
import { distillFigures, distillMarkdown } from './distill-figures';
import { benchFlags } from './flags';
import { machineName, writeResults } from './results';
import { timeInterleaved, type Timing } from './timing';

const BATCH = 32;

interface ModelCase {
  name: string;
  model: () => Model;
  feeds: () => Record<string, ort.Tensor>;
  classes: number;
  quick: boolean;
}

function tokens(length: number, vocab: number): Record<string, ort.Tensor> {
  const ids = BigInt64Array.from(lcgFloats(BATCH * length, 7), (v) => BigInt(Math.floor((v + 2) * 1000) % vocab));
  return {
    input_ids: new ort.Tensor('int64', ids, [BATCH, length]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(BATCH * length).fill(1n), [BATCH, length]),
  };
}

const images = (channels: number, size: number): Record<string, ort.Tensor> =>
  ({ input: new ort.Tensor('float32', lcgFloats(BATCH * channels * size * size, 7), [BATCH, channels, size, size]) });

const CASES: ModelCase[] = [
  {
    name: 'BERT-style encoder, tests (2 layers, hidden 32, seq 12)',
    model: () => buildBertEncoder({ layers: 2, hidden: 32, heads: 4, ffn: 64, vocab: 21, maxPositions: 12, numLabels: 5, seed: 1 }),
    feeds: () => tokens(12, 21),
    classes: 5,
    quick: true,
  },
  {
    name: 'BERT-style encoder (4 layers, hidden 256, seq 128)',
    model: () => buildBertEncoder({ layers: 4, hidden: 256, heads: 4, ffn: 1024, vocab: 1000, maxPositions: 128, numLabels: 5, seed: 1 }),
    feeds: () => tokens(128, 1000),
    classes: 5,
    quick: false,
  },
  {
    name: 'conv net, tests (16 and 32 channels, 12x12)',
    model: () => buildConvNet({ channels: 1, size: 12, classes: 4, widths: [16, 32], batch: 'batch', seed: 1 }),
    feeds: () => images(1, 12),
    classes: 4,
    quick: true,
  },
  {
    name: 'conv net (32, 64, 128 channels, 3x32x32)',
    model: () => buildConvNet({ channels: 3, size: 32, classes: 10, widths: [32, 64, 128], batch: 'batch', seed: 1 }),
    feeds: () => images(3, 32),
    classes: 10,
    quick: false,
  },
];

/**
 * The student with its float weights as graph inputs, as the training graph has them: onnxruntime then
 * cannot pre-pack them (no NCHWc convolutions, no constant folding), so this forward is the training
 * step's own baseline.
 */
function weightsAsInputs(model: Model): { model: Model; feeds: Record<string, ort.Tensor> } {
  const copy = model.clone();
  const feeds: Record<string, ort.Tensor> = {};
  for (const t of model.initializers().filter((i) => i.dtype === 'float32' && i.dims.length > 0)) {
    copy.graph.initializer.splice(copy.graph.initializer.findIndex((i) => i.name === t.name), 1);
    copy.graph.input.push(makeValueInfo(t.name, 'float32', t.dims));
    feeds[t.name] = new ort.Tensor('float32', t.data as Float32Array, t.dims);
  }
  return { model: copy, feeds };
}

interface CaseResult {
  name: string;
  batch: number;
  parameters: number;
  trainingGraphNodes: number;
  forward: Timing;
  /** The forward pass with the weights fed as inputs (as in the training graph). */
  forwardWeightsFed: Timing;
  step: Timing;
  /** Step time over forward time. */
  ratio: number;
  samplesPerSecond: { forward: number; step: number };
}

async function measure(c: ModelCase, threads: number | undefined, budgetMs: number): Promise<CaseResult> {
  const student = c.model();
  const feeds = c.feeds();
  const options = resolveTrainOptions({ threads }, BATCH, undefined);
  const graph = await buildTrainingGraph(student, feeds, {
    loss: { logits: logitsOutput(student), distill: { temperature: 2, weight: 1 } },
    optimizer: options.optimizer,
    frozen: () => false,
    masks: new Map(),
    seed: 0,
  });
  const training = await TrainingSession.create(graph, options.optimizer, threads);
  const forward = await ort.InferenceSession.create(serializeModel(student), ortSessionOptions({ threads }));
  const fed = weightsAsInputs(student);
  const forwardFed = await ort.InferenceSession.create(serializeModel(fed.model), ortSessionOptions({ threads }));
  const fedFeeds = { ...feeds, ...fed.feeds };
  const stepFeeds = { ...feeds, [graph.targets.teacherLogits as string]: new ort.Tensor('float32', lcgFloats(BATCH * c.classes, 3), [BATCH, c.classes]) };
  let t = 0;
  try {
    const [f, ff, s] = await timeInterleaved([
      () => forward.run(feeds),
      () => forwardFed.run(fedFeeds),
      () => training.step(stepFeeds, 1e-4, ++t),
    ], { budgetMs, maxRuns: 2000, block: 5, warmup: 5, minBlocks: 5 });
    const parameters = student.initializers().reduce((n, i) => n + i.data.length, 0);
    return {
      name: c.name,
      batch: BATCH,
      parameters,
      trainingGraphNodes: graph.model.graph.node.length,
      forward: f,
      forwardWeightsFed: ff,
      step: s,
      ratio: s.medianMs / f.medianMs,
      samplesPerSecond: { forward: (BATCH * 1000) / f.medianMs, step: (BATCH * 1000) / s.medianMs },
    };
  } finally {
    await forward.release();
    await forwardFed.release();
    await training.release();
  }
}

function markdown(results: CaseResult[], machine: string, load: number): string {
  return [
    `# train: one distillation step against the forward pass, onnxruntime-node, batch ${BATCH} (${machine})`,
    '',
    '| model | params | training graph nodes | forward ms | forward, weights fed ms | step ms | step / forward | samples/s (forward) | samples/s (training) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...results.map((r) => `| ${r.name} | ${r.parameters.toLocaleString('en-US')} | ${r.trainingGraphNodes} | ${r.forward.medianMs.toFixed(3)} | ${r.forwardWeightsFed.medianMs.toFixed(3)} `
      + `| ${r.step.medianMs.toFixed(3)} | ${r.ratio.toFixed(2)}x | ${Math.round(r.samplesPerSecond.forward)} | ${Math.round(r.samplesPerSecond.step)} |`),
    '',
    'A step: student forward, KL loss against fed teacher logits, backward and AdamW update with gradient clipping, in one',
    'onnxruntime-node run. Medians of interleaved blocks after warm-up; target: a step within 4x the forward pass.',
    `Load average when the run began: ${load.toFixed(2)}.`,
    '',
  ].join('\n');
}

export async function runTrainBench(args: string[]): Promise<void> {
  const { flag, outDir, quick } = benchFlags(args);
  const threads = flag('threads') === undefined ? undefined : Number(flag('threads'));
  const budgetMs = Number(flag('budget') ?? (quick ? 2000 : 8000));
  const machine = `${machineName()}, onnxruntime threads ${threads ?? 'default'}`;
  const load = os.loadavg()[0];
  const results: CaseResult[] = [];
  for (const c of CASES.filter((x) => !quick || x.quick)) {
    process.stderr.write(`train: ${c.name}\n`);
    results.push(await measure(c, threads, budgetMs));
  }
  const distillation = await distillFigures(quick ? 1000 : 3000);
  writeResults(outDir, 'train', { suite: 'train', machine, onnxruntimeThreads: threads ?? 'default', loadAverage: load, batch: BATCH, cases: results, distillation },
    markdown(results, machine, load) + '\n' + distillMarkdown(distillation));
}
