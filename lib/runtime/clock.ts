// Time as the batcher and the scheduler see it: injectable, so tests step it instead of sleeping.
import { performance } from 'perf_hooks';

export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds since the Unix epoch (sub-millisecond resolution); deadlines are on this scale. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds. */
  setTimer(fn: () => void, ms: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/** Monotonic time anchored at the process start's wall time; Node timers. */
export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
