// How often a dead instance process may be restarted (isolation 'process'): a child that crashes at
// every request, or at every load, must not be restarted in a tight loop forever. Restarts back off
// exponentially; more than maxRestarts deaths within windowMs spend the budget, and the instance is
// marked failed until the model is loaded again.
import type { Clock } from './clock';

export interface RestartPolicy {
  /** Restarts allowed within windowMs; one more death marks the instance failed. */
  maxRestarts: number;
  windowMs: number;
  /** Wait before the second restart within the window; it doubles with each further one. The first restart is immediate. */
  backoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { maxRestarts: 5, windowMs: 60_000, backoffMs: 100, maxBackoffMs: 5_000 };

export class RestartBudget {
  /** Times of the restarts granted, oldest first, within the window. */
  private readonly granted: number[] = [];

  constructor(readonly policy: RestartPolicy, private readonly clock: Clock) {
    for (const key of ['maxRestarts', 'windowMs', 'backoffMs', 'maxBackoffMs'] as const) {
      const value = policy[key];
      if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`restart policy ${key} must be a non-negative integer, got ${value}`);
    }
  }

  /** Called when the instance died: the delay (ms) before restarting it, or undefined when the budget is spent. */
  next(): number | undefined {
    const now = this.clock.now();
    while (this.granted.length > 0 && now - this.granted[0] >= this.policy.windowMs) this.granted.shift();
    const recent = this.granted.length;
    if (recent >= this.policy.maxRestarts) return undefined;
    this.granted.push(now);
    return recent === 0 ? 0 : Math.min(this.policy.maxBackoffMs, this.policy.backoffMs * 2 ** (recent - 1));
  }

  /** Why the budget is spent, for the error and the model's metadata. */
  describe(): string {
    return `restarted ${this.policy.maxRestarts} times within ${this.policy.windowMs / 1000} s`;
  }
}
