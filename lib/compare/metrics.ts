// Accuracy metrics between a reference output and a candidate output.
import { HostTensor, toFloat64 } from '../engine/tensor';

export interface OutputMetrics {
  name: string;
  elements: number;
  cosine: number;
  maxAbsError: number;
  meanAbsError: number;
  /** Fraction of rows whose argmax over the last axis agrees; null without a class axis. */
  top1Agreement: number | null;
}

export function cosineSimilarity(a: Float64Array, b: Float64Array): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  if (na === 0 && nb === 0) return 1;
  if (na === 0 || nb === 0) return 0;
  return dot / Math.sqrt(na * nb);
}

function argmax(values: Float64Array, start: number, length: number): number {
  let best = start;
  for (let i = start + 1; i < start + length; i++) if (values[i] > values[best]) best = i;
  return best - start;
}

/** A class axis is the last one, when it has more than one entry. */
export function top1Agreement(a: Float64Array, b: Float64Array, dims: readonly number[]): number | null {
  const classes = dims.length > 0 ? dims[dims.length - 1] : 0;
  if (classes < 2 || a.length === 0) return null;
  const rows = a.length / classes;
  let agree = 0;
  for (let r = 0; r < rows; r++) if (argmax(a, r * classes, classes) === argmax(b, r * classes, classes)) agree++;
  return agree / rows;
}

export function compareOutput(name: string, reference: HostTensor, candidate: HostTensor): OutputMetrics {
  const sameShape = reference.dims.length === candidate.dims.length && reference.dims.every((d, i) => d === candidate.dims[i]);
  if (!sameShape) {
    throw new Error(`output ${name}: shapes differ ([${reference.dims.join(',')}] vs [${candidate.dims.join(',')}])`);
  }
  const a = toFloat64(reference);
  const b = toFloat64(candidate);
  let maxAbs = 0, sumAbs = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]);
    if (e > maxAbs || Number.isNaN(e)) maxAbs = e;
    sumAbs += e;
  }
  return {
    name,
    elements: a.length,
    cosine: cosineSimilarity(a, b),
    maxAbsError: maxAbs,
    meanAbsError: a.length ? sumAbs / a.length : 0,
    top1Agreement: top1Agreement(a, b, reference.dims),
  };
}

/** Combines per-sample metrics of one output: worst cosine and max error, mean of the means. */
export function mergeMetrics(samples: readonly OutputMetrics[]): OutputMetrics {
  const first = samples[0];
  const top1 = samples.every((s) => s.top1Agreement !== null)
    ? samples.reduce((t, s) => t + (s.top1Agreement as number), 0) / samples.length
    : null;
  return {
    name: first.name,
    elements: samples.reduce((t, s) => t + s.elements, 0),
    cosine: Math.min(...samples.map((s) => s.cosine)),
    maxAbsError: Math.max(...samples.map((s) => s.maxAbsError)),
    meanAbsError: samples.reduce((t, s) => t + s.meanAbsError, 0) / samples.length,
    top1Agreement: top1,
  };
}
