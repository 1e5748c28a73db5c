// Accuracy metrics between a reference output and a candidate output.
import { HostTensor, toFloat64 } from '../engine/tensor';

export interface OutputMetrics {
  name: string;
  elements: number;
  /** null for fewer than 2 elements: one value has no direction, its cosine is always 1. */
  cosine: number | null;
  maxAbsError: number;
  /** maxAbsError over the largest |value| of the reference (the absolute error where that is 0). */
  maxRelativeError: number;
  meanAbsError: number;
  /** The candidate is all zeros where the reference is not (a pruned or broken model's usual failure). */
  allZero: boolean;
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
  let maxAbs = 0, sumAbs = 0, scale = 0, candidateNonzero = false;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]);
    if (e > maxAbs || Number.isNaN(e)) maxAbs = e;
    sumAbs += e;
    scale = Math.max(scale, Math.abs(a[i]));
    if (b[i] !== 0) candidateNonzero = true;
  }
  return {
    name,
    elements: a.length,
    cosine: a.length < 2 ? null : cosineSimilarity(a, b),
    maxAbsError: maxAbs,
    maxRelativeError: scale > 0 ? maxAbs / scale : maxAbs,
    meanAbsError: a.length ? sumAbs / a.length : 0,
    allZero: !candidateNonzero && scale > 0,
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
    cosine: samples.some((s) => s.cosine !== null) ? Math.min(...samples.filter((s) => s.cosine !== null).map((s) => s.cosine as number)) : null,
    maxAbsError: Math.max(...samples.map((s) => s.maxAbsError)),
    maxRelativeError: Math.max(...samples.map((s) => s.maxRelativeError)),
    meanAbsError: samples.reduce((t, s) => t + s.meanAbsError, 0) / samples.length,
    allZero: samples.some((s) => s.allZero),
    top1Agreement: top1,
  };
}
