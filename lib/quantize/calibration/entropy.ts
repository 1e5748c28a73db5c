// Entropy calibration (the KL-divergence method TensorRT introduced): pick the clipping threshold
// whose 8-bit quantized histogram loses the least information against the clipped original.
import type { TensorStats } from './histogram';

/** Levels a quantized half-range has: 128 for 8-bit values around zero. */
const QUANTIZED_BINS = 128;
const EPSILON = 1e-4;
/** Candidates are first tried every COARSE_STEP bins, then one by one around the best. */
const COARSE_STEP = 16;

/**
 * KL(P || Q) for the threshold at bin `end`: P is the histogram clipped there (outliers added to the
 * last bin), Q is P merged into QUANTIZED_BINS levels and spread back over the non-empty bins. Both are
 * smoothed as onnxruntime does (empty bins get EPSILON, taken evenly from the others).
 * Infinity when either distribution has no mass to smooth with.
 */
function divergenceAt(counts: Float64Array, end: number, outliers: number, q: Float64Array): number {
  const perGroup = end / QUANTIZED_BINS;
  for (let g = 0; g < QUANTIZED_BINS; g++) {
    const start = Math.floor(g * perGroup);
    const stop = g === QUANTIZED_BINS - 1 ? end : Math.floor((g + 1) * perGroup);
    let sum = 0;
    let used = 0;
    for (let j = start; j < stop; j++) {
      sum += counts[j];
      if (counts[j] !== 0) used++;
    }
    const level = used === 0 ? 0 : sum / used;
    for (let j = start; j < stop; j++) q[j] = counts[j] !== 0 ? level : 0;
  }
  let pZeros = 0, qZeros = 0, pSum = 0, qSum = 0;
  for (let j = 0; j < end; j++) {
    const p = j === end - 1 ? counts[j] + outliers : counts[j];
    if (p === 0) pZeros++;
    if (q[j] === 0) qZeros++;
    pSum += p;
    qSum += q[j];
  }
  if (pZeros === end || qZeros === end) return Infinity;
  const pTake = (EPSILON * pZeros) / (end - pZeros);
  const qTake = (EPSILON * qZeros) / (end - qZeros);
  let kl = 0;
  for (let j = 0; j < end; j++) {
    const raw = j === end - 1 ? counts[j] + outliers : counts[j];
    const p = (raw === 0 ? EPSILON : raw - pTake) / pSum;
    const qv = (q[j] === 0 ? EPSILON : q[j] - qTake) / qSum;
    if (p <= 0 || qv <= 0) return Infinity;
    kl += p * Math.log(p / qv);
  }
  return kl;
}

/** The |x| threshold with the smallest KL divergence; the full range when the histogram is too small. */
export function entropyThreshold(stats: TensorStats): number {
  const counts = stats.counts;
  const bins = counts.length;
  if (stats.edge === 0 || bins <= QUANTIZED_BINS) return stats.edge;
  const suffix = new Float64Array(bins + 1);
  for (let j = bins - 1; j >= 0; j--) suffix[j] = suffix[j + 1] + counts[j];
  const q = new Float64Array(bins);
  let best = bins;
  let bestKl = Infinity;
  const consider = (end: number) => {
    const kl = divergenceAt(counts, end, suffix[end], q);
    if (kl < bestKl) {
      bestKl = kl;
      best = end;
    }
  };
  for (let end = QUANTIZED_BINS; end <= bins; end += COARSE_STEP) consider(end);
  consider(bins);
  const coarse = best;
  for (let end = Math.max(QUANTIZED_BINS, coarse - COARSE_STEP); end <= Math.min(bins, coarse + COARSE_STEP); end++) consider(end);
  return (best / bins) * stats.edge;
}
