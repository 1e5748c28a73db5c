// The distillation figures of the train suite, from a real run on the distillation tests' setups: each
// model is trained as a teacher on its synthetic task, then a 50% channel-pruned and a 90% unstructured
// student are distilled from it on unlabelled inputs. Accuracy on held-out samples before and after,
// steps and wall time, the student's step time against its forward pass, and the final student's size
// and onnxruntime latency against the teacher's (batch 32, interleaved after warm-up).
import * as ort from 'onnxruntime-node';
import { ortSessionOptions } from '../lib/engine/ort-engine';
import { buildBertEncoder, buildConvNet } from '../lib/onnx';
import type { Model } from '../lib/onnx/model';
import { serializeModel } from '../lib/onnx/save';
import { takeRows, type Dataset } from '../lib/train/dataset';
import { distill, type DistillOptions } from '../lib/train/distill';
import { weightSparsity } from '../lib/train/masks';
import { hostToOrt } from '../lib/train/tensors';
import { train } from '../lib/train/train';
import { barImages, majorityTokens, sequenceVocab } from '../test/train/tasks';
import { timeInterleaved } from './timing';

const BATCH = 32;
const GROUPS = 5;
const LENGTH = 12;

interface Setup {
  name: string;
  untrained: () => Model;
  data: Dataset;
  held: Dataset;
  options: DistillOptions;
  students: string[];
}

const SETUPS: Setup[] = [
  {
    name: 'BERT-style encoder (2 layers, hidden 32)',
    untrained: () => buildBertEncoder({ layers: 2, hidden: 32, heads: 4, ffn: 64, vocab: sequenceVocab(GROUPS), maxPositions: LENGTH, numLabels: GROUPS, seed: 1 }),
    data: majorityTokens(2048, LENGTH, 1, GROUPS, 1),
    held: majorityTokens(512, LENGTH, 2, GROUPS, 1),
    options: { epochs: 10, learningRate: 3e-3 },
    students: ['prune:channel=0.5,min-params=0', 'prune:unstructured=0.9,min-params=1000'],
  },
  {
    name: 'conv net (16 and 32 channels)',
    untrained: () => buildConvNet({ channels: 1, size: 12, classes: 4, widths: [16, 32], batch: 'batch', seed: 1 }),
    data: barImages(2048, 12, 1),
    held: barImages(512, 12, 2),
    options: { epochs: 10, learningRate: 3e-3 },
    students: ['prune:channel=0.5,min-params=0', 'prune:unstructured=0.9,min-params=1000'],
  },
];

export interface StudentFigures {
  spec: string;
  accuracy: { pruned: number; distilled: number };
  agreementWithTeacher: number;
  steps: number;
  /** The whole distill() call (teacher outputs, evaluation before and after, training) and its training loop. */
  wallSeconds: number;
  loopSeconds: number;
  samplesPerSecond: number;
  /** Median training step over the student's median forward pass, batch 32. */
  stepMs: number;
  forwardMs: number;
  stepRatio: number;
  parameters: { teacher: number; student: number; nonzero: number };
  bytes: { teacher: number; student: number };
  /** onnxruntime-node latency at batch 32, teacher and student timed alternately. */
  latencyMs: { teacher: number; student: number };
  /** Smallest and largest fraction of zeros kept in the masked weights (unstructured students). */
  sparsityKept?: { min: number; max: number; exact: boolean };
}

export interface DistillFigures {
  name: string;
  teacher: { accuracy: number; steps: number; wallSeconds: number };
  students: StudentFigures[];
}

async function latencies(a: Model, b: Model, feeds: Record<string, ort.Tensor>, budgetMs: number): Promise<[number, number]> {
  const sessions = await Promise.all([a, b].map((m) => ort.InferenceSession.create(serializeModel(m), ortSessionOptions({}))));
  try {
    const [ta, tb] = await timeInterleaved(sessions.map((s) => () => s.run(feeds)), { budgetMs, maxRuns: 2000, block: 10, warmup: 10 });
    return [ta.medianMs, tb.medianMs];
  } finally {
    await Promise.all(sessions.map((s) => s.release()));
  }
}

async function measureSetup(s: Setup, budgetMs: number): Promise<DistillFigures> {
  const unlabelled: Dataset = { inputs: s.data.inputs, size: s.data.size };
  const trained = await train(s.untrained(), s.data, { ...s.options, eval: s.held });
  const teacher = trained.model;
  const rows = Array.from({ length: BATCH }, (_, i) => i);
  const feeds = Object.fromEntries(Object.entries(s.held.inputs).map(([name, t]) => [name, hostToOrt(takeRows(t, rows))]));
  const students: StudentFigures[] = [];
  for (const spec of s.students) {
    const start = process.hrtime.bigint();
    const { model, report } = await distill(teacher, spec, unlabelled, { ...s.options, eval: s.held });
    const wallSeconds = Number(process.hrtime.bigint() - start) / 1e9;
    const [teacherMs, studentMs] = await latencies(teacher, model, feeds, budgetMs);
    const t = report.training;
    const masked = report.training.masked;
    const kept = [...weightSparsity(model, masked.map((m) => m.name)).values()];
    students.push({
      spec,
      accuracy: { pruned: report.evaluation.before.accuracy as number, distilled: report.evaluation.after.accuracy as number },
      agreementWithTeacher: report.evaluation.after.agreement as number,
      steps: t.steps,
      wallSeconds,
      loopSeconds: t.totalMs / 1000,
      samplesPerSecond: t.samplesPerSecond,
      stepMs: t.stepMs,
      forwardMs: studentMs,
      stepRatio: t.stepMs / studentMs,
      parameters: { teacher: report.teacher.size.parameters, student: report.student.size.parameters, nonzero: report.student.size.nonzero },
      bytes: { teacher: serializeModel(teacher).byteLength, student: serializeModel(model).byteLength },
      latencyMs: { teacher: teacherMs, student: studentMs },
      sparsityKept: masked.length
        ? { min: Math.min(...kept), max: Math.max(...kept), exact: masked.every((m, i) => kept[i] === m.sparsity) }
        : undefined,
    });
  }
  const tt = trained.report.training;
  return { name: s.name, teacher: { accuracy: trained.report.after.accuracy as number, steps: tt.steps, wallSeconds: tt.totalMs / 1000 }, students };
}

export async function distillFigures(budgetMs: number): Promise<DistillFigures[]> {
  const out: DistillFigures[] = [];
  for (const s of SETUPS) {
    process.stderr.write(`train: distilling ${s.name}\n`);
    out.push(await measureSetup(s, budgetMs));
  }
  return out;
}

export function distillMarkdown(figures: DistillFigures[]): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  return [
    '## Distillation end to end (the distillation tests\' setups, batch 32, 10 epochs of 2048 samples, 512 held out)',
    '',
    '| model | student | teacher acc. | pruned acc. | distilled acc. | steps | wall s (loop) | samples/s | step / student forward | params teacher -> student (nonzero) | bytes teacher -> student | ort latency teacher -> student (ms) | zeros kept |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...figures.flatMap((f) => f.students.map((s) => `| ${f.name} | ${s.spec} | ${pct(f.teacher.accuracy)} | ${pct(s.accuracy.pruned)} | ${pct(s.accuracy.distilled)} `
      + `| ${s.steps} | ${s.wallSeconds.toFixed(1)} (${s.loopSeconds.toFixed(1)}) | ${Math.round(s.samplesPerSecond)} | ${s.stepRatio.toFixed(2)}x (${s.stepMs.toFixed(3)} / ${s.forwardMs.toFixed(3)} ms) `
      + `| ${s.parameters.teacher} -> ${s.parameters.student} (${s.parameters.nonzero}) | ${s.bytes.teacher} -> ${s.bytes.student} `
      + `| ${s.latencyMs.teacher.toFixed(3)} -> ${s.latencyMs.student.toFixed(3)} `
      + `| ${s.sparsityKept ? `${pct(s.sparsityKept.min)}-${pct(s.sparsityKept.max)}${s.sparsityKept.exact ? ', exactly' : ', CHANGED'}` : '-'} |`)),
    '',
    ...figures.map((f) => `${f.name}: teacher trained in ${f.teacher.steps} steps, ${f.teacher.wallSeconds.toFixed(1)} s.`),
    '',
  ].join('\n');
}
