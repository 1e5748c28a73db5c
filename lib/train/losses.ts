// Loss terms written as graph nodes after the student's forward pass, so the same rules differentiate
// them: KL divergence to the teacher's softened distribution (scaled by T²), cross-entropy with labels
// (or squared error for float labels), and squared error between paired intermediate values, through a
// learned projection when their widths differ. The loss is their weighted sum.
import { randomNormal } from '../onnx/random';
import type { FloatType, GraphWriter } from './graph-writer';
import type { ValueShapes } from './probe';

export interface LossTerms {
  /** The student's logits value. */
  logits: string;
  /** KL divergence against the teacher's logits, fed each step. */
  distill?: { temperature: number; weight: number };
  /** Labels fed each step: integer class ids (cross-entropy) or float targets (squared error). */
  labels?: { dtype: 'int64' | 'float32'; weight: number };
  /** Student values pulled toward teacher values fed each step. */
  /** Each teacher value's dims per sample (without the batch axis). */
  matches?: { student: string; sampleDims: number[]; weight: number }[];
  /** Seed of the projections' initial values. */
  seed: number;
}

export interface LossGraph {
  loss: string;
  /** Graph input for the teacher's logits (with `distill`). */
  teacherLogits?: string;
  labels?: string;
  /** Graph input per match, in order. */
  matchTargets: string[];
  /** Projections added for matches of different widths: trained, then dropped. */
  projections: string[];
}

const product = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

export function appendLoss(w: GraphWriter, terms: LossTerms, shapes: ValueShapes): LossGraph {
  const logits = shapes.get(terms.logits);
  if (!logits) throw new Error(`the student has no value "${terms.logits}"`);
  const dtype = logits.dtype as FloatType;
  const dims = logits.dims;
  const rows = product(dims.slice(0, -1));
  const classes = dims[dims.length - 1];
  const scalar = (v: number): string => w.scalar(v, dtype);
  const parts: string[] = [];
  const result: LossGraph = { loss: '', matchTargets: [], projections: [] };
  const weighted = (term: string, weight: number): void => void parts.push(weight === 1 ? term : w.op('Mul', [term, scalar(weight)]));

  if (terms.distill && terms.distill.weight > 0) {
    const t = terms.distill.temperature;
    const target = w.input('teacher_logits', dtype, dims);
    result.teacherLogits = target;
    const soften = (v: string): string => (t === 1 ? v : w.op('Div', [v, scalar(t)]));
    const studentLog = w.op('LogSoftmax', [soften(terms.logits)], { axis: -1 });
    const teacherLog = w.op('LogSoftmax', [soften(target)], { axis: -1 });
    const pointwise = w.op('Mul', [w.op('Exp', [teacherLog]), w.op('Sub', [teacherLog, studentLog])]);
    // Mean over rows; T² keeps the gradient's size independent of the temperature (Hinton et al.).
    weighted(w.op('Mul', [w.sumAll(pointwise), scalar((t * t) / rows)]), terms.distill.weight);
  }
  if (terms.labels && terms.labels.weight > 0) {
    if (terms.labels.dtype === 'int64') {
      const labels = w.input('labels', 'int64', dims.slice(0, -1));
      result.labels = labels;
      const values = w.constant(dtype === 'float64' ? Float64Array.of(0, 1) : Float32Array.of(0, 1), [2]);
      const onehot = w.op('OneHot', [labels, w.ints([classes]), values], { axis: -1 });
      const logProbs = w.op('LogSoftmax', [terms.logits], { axis: -1 });
      weighted(w.op('Mul', [w.sumAll(w.op('Mul', [onehot, logProbs])), scalar(-1 / rows)]), terms.labels.weight);
    } else {
      const labels = w.input('labels', dtype, dims);
      result.labels = labels;
      const error = w.op('Sub', [terms.logits, labels]);
      weighted(w.op('Mul', [w.sumAll(w.op('Mul', [error, error])), scalar(1 / product(dims))]), terms.labels.weight);
    }
  }
  (terms.matches ?? []).forEach((m, i) => {
    const student = shapes.get(m.student);
    if (!student) throw new Error(`the student has no value "${m.student}" to match`);
    const targetDims = [dims[0], ...m.sampleDims];
    const target = w.input(`teacher_match_${i}`, dtype, targetDims);
    result.matchTargets.push(target);
    const from = student.dims[student.dims.length - 1];
    const to = targetDims[targetDims.length - 1];
    let value = m.student;
    if (from !== to) {
      const initial = randomNormal(from * to, terms.seed + i, 1 / Math.sqrt(from));
      const projection = w.initializer(`projection_${i}`, dtype === 'float64' ? Float64Array.from(initial) : initial, [from, to]);
      result.projections.push(projection);
      value = w.op('MatMul', [value, projection]);
    }
    const error = w.op('Sub', [value, target]);
    weighted(w.op('Mul', [w.sumAll(w.op('Mul', [error, error])), scalar(1 / product(targetDims))]), m.weight);
  });
  if (parts.length === 0) throw new Error('no loss term: give a teacher, labels or matched values with a weight above 0');
  result.loss = parts.length === 1 ? parts[0] : w.op('Sum', parts);
  return result;
}
