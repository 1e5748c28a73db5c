// Learning rate per step: linear warm-up from 0, then linear or cosine decay to 0 (or constant).

export type ScheduleKind = 'linear' | 'cosine' | 'constant';

export interface Schedule {
  kind: ScheduleKind;
  base: number;
  /** Warm-up steps. */
  warmup: number;
  total: number;
}

/** Learning rate of step `step` (0-based). */
export function learningRateAt(s: Schedule, step: number): number {
  if (step < s.warmup) return (s.base * (step + 1)) / s.warmup;
  if (s.kind === 'constant') return s.base;
  const progress = Math.min(1, (step - s.warmup) / Math.max(1, s.total - s.warmup));
  return s.kind === 'linear' ? s.base * (1 - progress) : s.base * 0.5 * (1 + Math.cos(Math.PI * progress));
}
