// Interleaved timing shared by the bench suites: variants run in alternating blocks for about
// budgetMs in all, so drift on a shared machine hits every variant alike.
import { LatencyStats, percentile, summarize } from '../lib/compare/latency';
import type { Session } from '../lib/engine/engine';
import type { Feeds } from '../lib/engine/tensor';

export interface Timing { medianMs: number; minMs: number; runs: number }

export type Runner = () => unknown;

export interface InterleaveOptions {
  budgetMs: number;
  maxRuns: number;
  /** Timed runs per variant per block (default 1). */
  block?: number;
  /** Blocks run even when the budget is spent (default 3). */
  minBlocks?: number;
  /** Untimed runs per variant before timing (default 1). */
  warmup?: number;
  /**
   * Before each block: a pause and one untimed run. onnxruntime's pool threads spin for a while after
   * a run; timing our kernels while they still hold the cores (or the reverse) measures leftovers.
   */
  pauseMs?: number;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function timeInterleaved(variants: Runner[], options: InterleaveOptions): Promise<Timing[]> {
  const { budgetMs, maxRuns, block = 1, minBlocks = 3, warmup = 1, pauseMs } = options;
  for (let i = 0; i < warmup; i++) for (const v of variants) await v();
  const times: number[][] = variants.map(() => []);
  const start = Date.now();
  for (let r = 0, blocks = 0; r < maxRuns && (blocks < minBlocks || Date.now() - start < budgetMs); r += block, blocks++) {
    for (const [i, v] of variants.entries()) {
      if (pauseMs !== undefined) {
        await pause(pauseMs);
        await v();
      }
      for (let j = 0; j < block; j++) {
        const t0 = process.hrtime.bigint();
        await v();
        times[i].push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }
  }
  return times.map((t) => {
    const sorted = [...t].sort((a, b) => a - b);
    return { medianMs: percentile(sorted, 50), minMs: sorted[0], runs: sorted.length };
  });
}

/** Median latency of two sessions timed alternately (after `warmup` untimed rounds), so drift hits both alike. */
export async function timeSessionPair(a: Session, b: Session, feeds: Feeds, runs: number, warmup: number): Promise<[LatencyStats, LatencyStats]> {
  for (let i = 0; i < warmup; i++) {
    await a.run(feeds);
    await b.run(feeds);
  }
  const times: [number[], number[]] = [[], []];
  for (let i = 0; i < runs; i++) {
    for (const [k, s] of [a, b].entries()) {
      const start = process.hrtime.bigint();
      await s.run(feeds);
      times[k].push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  }
  return [summarize(times[0]), summarize(times[1])];
}
