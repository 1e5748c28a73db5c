// train(model, data, options): supervised training on labels with the distillation machinery (no
// teacher): cross-entropy for class ids, squared error for float targets.
import type { Model } from '../onnx/model';
import type { Dataset } from './dataset';
import { evaluateLogits, predict, type Evaluation } from './evaluate';
import { fit, type TrainingSummary } from './fit';
import type { TrainOptions } from './options';
import { logitsOutput } from './outputs';
import { takeRows } from './dataset';

export interface TrainModelOptions extends TrainOptions {
  /** The output the loss reads (default: the only output, or "logits"). */
  output?: string;
  /** Held-out samples with labels for the accuracy figures (default: the training data). */
  eval?: Dataset;
}

export interface TrainReport {
  /** The output the loss reads. */
  logits: string;
  training: TrainingSummary;
  /** On the eval set when given, else on the training data. */
  evaluatedOn: 'eval' | 'training';
  before: Evaluation;
  after: Evaluation;
}

export interface TrainResult {
  model: Model;
  report: TrainReport;
}

export async function train(source: Model, data: Dataset, options: TrainModelOptions = {}): Promise<TrainResult> {
  const labels = data.labels;
  if (!labels) throw new Error('training needs labels (for distillation from a teacher, use distill)');
  const output = logitsOutput(source, options.output);
  const evalSet = options.eval ?? data;
  const evaluate = async (model: Model): Promise<Evaluation> =>
    evaluateLogits((await predict(model, evalSet, [output], options.batch ?? 32, options.threads))[output], evalSet.labels, undefined);
  const before = await evaluate(source);
  const { model, summary } = await fit({
    student: source,
    data,
    loss: { logits: output, labels: { dtype: labels.type === 'int64' ? 'int64' : 'float32', weight: 1 } },
    targets: async (indices) => ({ labels: takeRows(labels, indices) }),
    options,
  });
  return { model, report: { logits: output, training: summary, evaluatedOn: options.eval ? 'eval' : 'training', before, after: await evaluate(model) } };
}
