// distill(teacher, student, data, options): trains the student to match the teacher — KL divergence
// between softened distributions, plus cross-entropy with labels and squared error between matched
// intermediate values when given — and reports accuracy and agreement with the teacher before and after.
import type { Model } from '../onnx/model';
import { countParameters } from '../prune/parameters';
import { takeRows, type Dataset } from './dataset';
import { evaluateLogits, predict, type Evaluation } from './evaluate';
import { fit, type TrainingSummary } from './fit';
import type { TrainOptions } from './options';
import { logitsOutput } from './outputs';
import { studentFromSpec } from './student';
import { teacherTargets } from './teacher-targets';

export interface ValueMatch {
  teacher: string;
  student: string;
}

export interface DistillOptions extends TrainOptions {
  /** Softmax temperature of the KL term (default 2). */
  temperature?: number;
  /** Weight of the teacher term; labels get 1 - alpha (default 0.5 with labels, 1 without). */
  alpha?: number;
  /** Intermediate values pulled together (squared error, through a learned projection when widths differ). */
  matches?: ValueMatch[];
  /** Weight of each matched pair's error (default 1). */
  matchWeight?: number;
  /** The logits output shared by teacher and student (default: the only output, or "logits"). */
  output?: string;
  /** Held-out samples (with labels for accuracy) for the figures (default: the training data). */
  eval?: Dataset;
  /** Teacher outputs for the training data: computed once into this safetensors file, or read from it. */
  cacheTeacher?: string;
}

export interface ModelSize {
  parameters: number;
  nonzero: number;
}

export interface DistillReport {
  student: { source: string; description: string; size: ModelSize };
  teacher: { size: ModelSize };
  /** The output the loss reads. */
  logits: string;
  temperature: number;
  alpha: number;
  matches: ValueMatch[];
  teacherOutputs: 'computed' | 'cached' | 'loaded';
  training: TrainingSummary;
  /** On the eval set when given, else on the training data. */
  evaluatedOn: 'eval' | 'training';
  evaluation: { teacher: Evaluation; before: Evaluation; after: Evaluation };
}

export interface DistillResult {
  model: Model;
  report: DistillReport;
}

function checkWeight(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a non-negative number, not ${value}`);
  return value;
}

const sizeOf = (m: Model): ModelSize => {
  const p = countParameters(m);
  return { parameters: p.count, nonzero: p.nonzero };
};

export async function distill(teacher: Model, student: Model | string, data: Dataset, options: DistillOptions = {}): Promise<DistillResult> {
  const made = typeof student === 'string' ? studentFromSpec(teacher, student) : undefined;
  const studentModel = made?.model ?? (student as Model);
  const output = logitsOutput(teacher, options.output);
  logitsOutput(studentModel, output);
  const temperature = options.temperature ?? 2;
  if (!(temperature > 0)) throw new RangeError(`temperature must be positive, not ${temperature}`);
  const labels = data.labels;
  const alpha = checkWeight(options.alpha ?? (labels ? 0.5 : 1), 'alpha');
  if (alpha > 1) throw new RangeError(`alpha must be in [0, 1], not ${alpha}`);
  if (alpha < 1 && !labels) throw new RangeError(`alpha ${alpha} gives labels a weight, but no labels were given`);
  const matches = options.matches ?? [];
  const matchWeight = checkWeight(options.matchWeight ?? 1, 'match weight');
  const batch = options.batch ?? 32;
  const evalSet = options.eval ?? data;

  const teacherNames = [output, ...matches.map((m) => m.teacher)];
  const targets = await teacherTargets(teacher, data, teacherNames, batch, options.cacheTeacher, options.threads);
  try {
    const sampleDims = matches.length ? (await targets.rows([0])).slice(1).map((t) => t.dims.slice(1)) : [];
    const teacherLogits = (await predict(teacher, evalSet, [output], batch, options.threads))[output];
    const judge = async (model: Model): Promise<Evaluation> =>
      evaluateLogits((await predict(model, evalSet, [output], batch, options.threads))[output], evalSet.labels, teacherLogits);
    const before = await judge(studentModel);
    const { model, summary } = await fit({
      student: studentModel,
      data,
      loss: {
        logits: output,
        distill: { temperature, weight: alpha },
        labels: labels && alpha < 1 ? { dtype: labels.type === 'int64' ? 'int64' : 'float32', weight: 1 - alpha } : undefined,
        matches: matches.map((m, i) => ({ student: m.student, sampleDims: sampleDims[i], weight: matchWeight })),
      },
      targets: async (indices) => {
        const [logits, ...values] = await targets.rows(indices);
        return { teacherLogits: logits, labels: labels && takeRows(labels, indices), matches: values };
      },
      options,
    });
    return {
      model,
      report: {
        student: { source: made ? made.spec : 'model', description: made?.description ?? 'given model', size: sizeOf(studentModel) },
        teacher: { size: sizeOf(teacher) },
        logits: output,
        temperature,
        alpha,
        matches,
        teacherOutputs: targets.source,
        training: summary,
        evaluatedOn: options.eval ? 'eval' : 'training',
        evaluation: { teacher: evaluateLogits(teacherLogits, evalSet.labels, undefined), before, after: await judge(model) },
      },
    };
  } finally {
    await targets.release();
  }
}
