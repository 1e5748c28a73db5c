// How good a model is on a dataset: accuracy against labels, and agreement (top-1) and cosine
// similarity of its logits against a teacher's.
import * as ort from 'onnxruntime-node';
import { cosineSimilarity } from '../compare/metrics';
import { ortSessionOptions } from '../engine/ort-engine';
import { toFloat64, type HostTensor } from '../engine/tensor';
import type { Model } from '../onnx/model';
import { serializeModel } from '../onnx/save';
import { stackRows, takeRows, type Dataset } from './dataset';
import { hostToOrt, ortToHost } from './tensors';

export interface Evaluation {
  samples: number;
  /** Fraction of rows whose argmax is the label; null without integer labels. */
  accuracy: number | null;
  /** Fraction of rows whose argmax is the teacher's; null for the teacher itself. */
  agreement: number | null;
  /** Cosine similarity of all logits with the teacher's; null for the teacher itself. */
  cosine: number | null;
}

/** The model's values `outputs` for every sample of `data`, run in batches of up to `batch`. */
export async function predict(model: Model, data: Dataset, outputs: readonly string[], batch: number, threads?: number): Promise<Record<string, HostTensor>> {
  const session = await ort.InferenceSession.create(serializeModel(model), ortSessionOptions({ threads }));
  try {
    const parts: Record<string, HostTensor[]> = Object.fromEntries(outputs.map((o) => [o, []]));
    for (let at = 0; at < data.size; at += batch) {
      const rows = Array.from({ length: Math.min(batch, data.size - at) }, (_, i) => at + i);
      const feeds = Object.fromEntries(Object.entries(data.inputs).map(([name, t]) => [name, hostToOrt(takeRows(t, rows))]));
      const out = await session.run(feeds, [...outputs]);
      for (const o of outputs) parts[o].push(ortToHost(out[o]));
    }
    return Object.fromEntries(outputs.map((o) => [o, stackRows(parts[o])]));
  } finally {
    await session.release();
  }
}

function argmaxRows(values: Float64Array, classes: number): Int32Array {
  const out = new Int32Array(values.length / classes);
  for (let r = 0; r < out.length; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (values[r * classes + c] > values[r * classes + best]) best = c;
    out[r] = best;
  }
  return out;
}

/** Accuracy, agreement and cosine of `logits` (last axis: classes) against labels and a teacher's logits. */
export function evaluateLogits(logits: HostTensor, labels: HostTensor | undefined, teacher: HostTensor | undefined): Evaluation {
  const classes = logits.dims[logits.dims.length - 1];
  const values = toFloat64(logits);
  const predicted = argmaxRows(values, classes);
  let accuracy: number | null = null;
  if (labels && labels.type === 'int64') {
    const ids = labels.data as BigInt64Array;
    let right = 0;
    predicted.forEach((p, i) => (right += BigInt(p) === ids[i] ? 1 : 0));
    accuracy = right / predicted.length;
  }
  let agreement: number | null = null;
  let cosine: number | null = null;
  if (teacher) {
    const reference = toFloat64(teacher);
    const theirs = argmaxRows(reference, classes);
    agreement = predicted.reduce((n, p, i) => n + (p === theirs[i] ? 1 : 0), 0) / predicted.length;
    cosine = cosineSimilarity(reference, values);
  }
  return { samples: logits.dims[0], accuracy, agreement, cosine };
}
