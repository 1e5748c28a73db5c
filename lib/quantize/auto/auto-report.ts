// What auto mode reports: the budget, the float baseline, each layer's sensitivity, every candidate
// tried with its figures, and which one was returned and why.
import type { LayerSensitivity } from './sensitivity';

/** Limits a result must meet; null: not checked. */
export interface AutoBudget {
  /** Most top-1 accuracy lost on the labelled eval data. */
  maxAccuracyDrop: number | null;
  /** Lowest worst-output cosine against float. */
  minCosine: number | null;
}

/** 'speed' (default): the fastest candidate within budget, never slower than float. 'size': the smallest within budget. */
export type AutoGoal = 'speed' | 'size';

export interface AutoCandidate {
  recipe: string;
  /** Worst output cosine against float on the scoring samples. */
  cosine: number | null;
  /** Top-1 accuracy on the labelled set (with eval data). */
  accuracy: number | null;
  sizeBytes: number;
  /** Median ms per run from the latency source. */
  latencyMs: number | null;
  /** Float latency over this one's (above 1: faster). */
  speedup: number | null;
  meetsBudget: boolean;
  /** Why the candidate could not be built or run, when it failed. */
  error?: string;
}

export interface AutoReport {
  budget: AutoBudget;
  goal: AutoGoal;
  seed: number;
  /** Samples the outputs were compared on, and whether they were generated. */
  samples: number;
  generated: boolean;
  /** Float timed before and after the candidates; the lower median. */
  float: { sizeBytes: number; latencyMs: number; accuracy: number | null };
  /** Goal speed: a candidate is faster only when float takes at least this many times as long. */
  minSpeedup: number;
  sensitivity: LayerSensitivity[];
  candidates: AutoCandidate[];
  /** The recipe returned, or 'float'. */
  chosen: string;
  reason: string;
}
