// Running statistics of one activation tensor over calibration: signed min/max and a histogram of
// |x| over [0, absmax] that is re-binned when a later batch reaches further out.

export class TensorStats {
  min = Infinity;
  max = -Infinity;
  /** Counts of |x| per bin; empty until the first non-zero value when histograms are kept. */
  counts: Float64Array;
  /** Upper edge of the last bin. */
  edge = 0;

  constructor(readonly bins: number, readonly keepHistogram: boolean) {
    this.counts = new Float64Array(keepHistogram ? bins : 0);
  }

  get observed(): boolean {
    return this.min <= this.max;
  }

  add(data: Float32Array): void {
    let lo = this.min;
    let hi = this.max;
    let absmax = 0;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      const a = v < 0 ? -v : v;
      if (a > absmax) absmax = a;
    }
    if (data.length === 0 || !Number.isFinite(absmax)) return;
    this.min = lo;
    this.max = hi;
    if (!this.keepHistogram) return;
    if (absmax > this.edge) this.rebin(absmax);
    if (this.edge === 0) {
      this.counts[0] += data.length;
      return;
    }
    const perUnit = this.bins / this.edge;
    const last = this.bins - 1;
    for (let i = 0; i < data.length; i++) {
      const a = data[i] < 0 ? -data[i] : data[i];
      const b = Math.floor(a * perUnit);
      this.counts[b > last ? last : b]++;
    }
  }

  /** Widens the histogram to [0, edge]: each old bin's count moves to the bin holding its centre. */
  private rebin(edge: number): void {
    const old = this.counts;
    const oldEdge = this.edge;
    this.counts = new Float64Array(this.bins);
    this.edge = edge;
    if (oldEdge === 0) {
      this.counts[0] = old.reduce((a, b) => a + b, 0);
      return;
    }
    const oldWidth = oldEdge / this.bins;
    for (let i = 0; i < this.bins; i++) {
      if (old[i] === 0) continue;
      const centre = (i + 0.5) * oldWidth;
      this.counts[Math.min(this.bins - 1, Math.floor((centre / edge) * this.bins))] += old[i];
    }
  }
}

/** |x| below which `percentile` % of the values lie (upper edge of the bin that reaches it). */
export function percentileThreshold(stats: TensorStats, percentile: number): number {
  const total = stats.counts.reduce((a, b) => a + b, 0);
  if (total === 0 || stats.edge === 0) return stats.edge;
  const wanted = (percentile / 100) * total;
  let sum = 0;
  for (let i = 0; i < stats.bins; i++) {
    sum += stats.counts[i];
    if (sum >= wanted) return ((i + 1) / stats.bins) * stats.edge;
  }
  return stats.edge;
}
