// Latency measurement: warm-up runs, then the median (and p90) of timed runs.
import type { Session } from '../engine/engine';
import type { Feeds } from '../engine/tensor';

export interface LatencyStats {
  runs: number;
  medianMs: number;
  p90Ms: number;
  minMs: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

export function summarize(times: readonly number[]): LatencyStats {
  const sorted = [...times].sort((a, b) => a - b);
  return { runs: sorted.length, medianMs: percentile(sorted, 50), p90Ms: percentile(sorted, 90), minMs: sorted[0] ?? NaN };
}

export async function measureLatency(session: Session, feeds: Feeds, options: { warmup?: number; runs?: number } = {}): Promise<LatencyStats> {
  for (let i = 0; i < (options.warmup ?? 2); i++) await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < (options.runs ?? 10); i++) {
    const start = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return summarize(times);
}
