// Entropy calibration (the KL-divergence method TensorRT introduced): pick the clipping threshold
// whose 8-bit quantized histogram loses the least information against the clipped original.
import type { TensorStats } from './histogram';

/** Levels a quantized half-range has: 128 for 8-bit values around zero. */
const QUANTIZED_BINS = 128;
const EPSILON = 1e-4;

/** Moves a little mass onto empty bins so KL stays finite (the smoothing onnxruntime applies). */
function smooth(p: Float64Array): Float64Array | undefined {
  let zeros = 0;
  for (const v of p) if (v === 0) zeros++;
  const nonZeros = p.length - zeros;
  if (nonZeros === 0) return undefined;
  const take = (EPSILON * zeros) / nonZeros;
  const out = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) out[i] = p[i] === 0 ? EPSILON : p[i] - take;
  return out.some((v) => v <= 0) ? undefined : out;
}

function klDivergence(p: Float64Array, q: Float64Array): number {
  const sp = p.reduce((a, b) => a + b, 0);
  const sq = q.reduce((a, b) => a + b, 0);
  let kl = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i] / sp;
    if (pi > 0) kl += pi * Math.log(pi / (q[i] / sq));
  }
  return kl;
}

/** The |x| threshold with the smallest KL divergence; the full range when the histogram is too small. */
export function entropyThreshold(stats: TensorStats): number {
  const counts = stats.counts;
  const bins = counts.length;
  if (stats.edge === 0 || bins <= QUANTIZED_BINS) return stats.edge;
  let best = bins;
  let bestKl = Infinity;
  const total = counts.reduce((a, b) => a + b, 0);
  let inside = 0;
  for (let i = 0; i < QUANTIZED_BINS; i++) inside += counts[i];
  for (let i = QUANTIZED_BINS; i <= bins; i++) {
    if (i > QUANTIZED_BINS) inside += counts[i - 1];
    const reference = counts.slice(0, i);
    reference[i - 1] += total - inside;
    const candidate = new Float64Array(i);
    const perGroup = i / QUANTIZED_BINS;
    for (let g = 0; g < QUANTIZED_BINS; g++) {
      const start = Math.floor(g * perGroup);
      const end = g === QUANTIZED_BINS - 1 ? i : Math.floor((g + 1) * perGroup);
      let sum = 0;
      let used = 0;
      for (let j = start; j < end; j++) {
        sum += counts[j];
        if (counts[j] !== 0) used++;
      }
      if (used === 0) continue;
      for (let j = start; j < end; j++) if (counts[j] !== 0) candidate[j] = sum / used;
    }
    const p = smooth(reference);
    const q = smooth(candidate);
    if (!p || !q) continue;
    const kl = klDivergence(p, q);
    if (kl < bestKl) {
      bestKl = kl;
      best = i;
    }
  }
  return (best / bins) * stats.edge;
}
