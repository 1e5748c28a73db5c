// Plain-JS references for pruning masks and sparse products.
import type { PruneMaskOptions } from '../../binding';

/** Keeps the `keep` entries that rank first: larger score, then lower index. */
function keepTop(scores: ArrayLike<number>, keep: number): Uint8Array {
  const order = Array.from({ length: scores.length }, (_, i) => i);
  order.sort((a, b) => scores[b] - scores[a] || a - b);
  const kept = new Uint8Array(scores.length);
  for (let i = 0; i < keep; i++) kept[order[i]] = 1;
  return kept;
}

/** pruneMask by full sort, the definition the native selection must match. */
export function pruneMaskRef(w: Float32Array, k: number, n: number, opts: PruneMaskOptions): Uint8Array {
  const pattern = opts.pattern ?? 'unstructured';
  const mag = Float64Array.from(w, Math.abs);
  if (pattern === 'unstructured') {
    return keepTop(mag, w.length - Math.round(opts.sparsity! * w.length));
  }
  const mask = new Uint8Array(k * n);
  if (pattern === '2:4' || pattern === '4:8') {
    const [keepN, groupM] = pattern === '2:4' ? [2, 4] : [4, 8];
    for (let g0 = 0; g0 < k; g0 += groupM) {
      const size = Math.min(groupM, k - g0);
      for (let j = 0; j < n; j++) {
        const group = Array.from({ length: size }, (_, r) => mag[(g0 + r) * n + j]);
        keepTop(group, Math.min(keepN, size)).forEach((kept, r) => { mask[(g0 + r) * n + j] = kept; });
      }
    }
    return mask;
  }
  const [bk, bn] = opts.block ?? [4, 1];
  const cols = Math.ceil(n / bn);
  const blocks = Math.ceil(k / bk) * cols;
  const norm = new Float64Array(blocks);
  for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) norm[Math.floor(i / bk) * cols + Math.floor(j / bn)] += w[i * n + j] ** 2;
  const kept = keepTop(norm, blocks - Math.round(opts.sparsity! * blocks));
  for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) mask[i * n + j] = kept[Math.floor(i / bk) * cols + Math.floor(j / bn)];
  return mask;
}

export function countKept(mask: Uint8Array): number {
  let kept = 0;
  for (const v of mask) kept += v;
  return kept;
}

/** y = x * W + bias in float64, and per element the bound sum |x| |w| + |bias| for relative checks. */
export function matmulRef(x: Float32Array, m: number, k: number, w: Float32Array, n: number, bias?: Float32Array): { y: Float64Array; scale: Float64Array } {
  const y = new Float64Array(m * n);
  const scale = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let kk = 0; kk < k; kk++) {
      const xv = x[i * k + kk];
      if (xv === 0) continue;
      for (let j = 0; j < n; j++) {
        const wv = w[kk * n + j];
        y[i * n + j] += xv * wv;
        scale[i * n + j] += Math.abs(xv * wv);
      }
    }
    if (bias) {
      for (let j = 0; j < n; j++) {
        y[i * n + j] += bias[j];
        scale[i * n + j] += Math.abs(bias[j]);
      }
    }
  }
  return { y, scale };
}
