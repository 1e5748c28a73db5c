// The model cache's bookkeeping: loaded model versions under a memory budget, least
// recently used first out; pinned and busy versions stay. A load in progress holds a reservation
// (an estimate); once loaded, a version counts what it was measured to take (its bytes).
import { CapacityError } from './errors';
import { formatBytes } from '../format-bytes';

export interface CacheEntry {
  readonly name: string;
  readonly version: number;
  /** Resident memory of the loaded version, as measured at load (or set by its config). */
  readonly bytes: number;
  readonly pinned: boolean;
  readonly busy: boolean;
  readonly lastUsed: number;
}

export class ModelCache<T extends CacheEntry> {
  private readonly entries = new Set<T>();
  private reserved = 0;

  constructor(readonly budgetBytes: number) {}

  get usedBytes(): number {
    let total = this.reserved;
    for (const e of this.entries) total += e.bytes;
    return total;
  }

  get size(): number {
    return this.entries.size;
  }

  values(): T[] {
    return [...this.entries];
  }

  /**
   * Reserves `bytes` for a load, choosing the least recently used idle, unpinned entries
   * to evict (and removing them from the books); the caller unloads what comes back.
   */
  reserve(bytes: number, what: string): T[] {
    if (bytes > this.budgetBytes) {
      throw new CapacityError(`${what} needs ${formatBytes(bytes)}, more than the whole memory budget (${formatBytes(this.budgetBytes)})`, false);
    }
    const victims: T[] = [];
    let free = this.budgetBytes - this.usedBytes;
    if (free < bytes) {
      const candidates = [...this.entries].filter((e) => !e.pinned && !e.busy).sort((a, b) => a.lastUsed - b.lastUsed);
      for (const candidate of candidates) {
        if (free >= bytes) break;
        victims.push(candidate);
        free += candidate.bytes;
      }
      if (free < bytes) {
        throw new CapacityError(`${what} needs ${formatBytes(bytes)}; the memory budget (${formatBytes(this.budgetBytes)}) is held by pinned or busy models`, true);
      }
    }
    for (const victim of victims) this.entries.delete(victim);
    this.reserved += bytes;
    return victims;
  }

  /** Ends a reservation; `entry` (the loaded model) takes its place, or nothing when the load failed. */
  settle(bytes: number, entry?: T): void {
    this.reserved -= bytes;
    if (entry) this.entries.add(entry);
  }

  /**
   * Brings the books back under the budget after a load measured more than its reservation:
   * least recently used idle, unpinned entries other than `keep` leave the books and come back
   * for the caller to unload. When they are not enough it stays over budget (pinned or busy models).
   */
  trim(keep?: T): T[] {
    let excess = this.usedBytes - this.budgetBytes;
    if (excess <= 0) return [];
    const candidates = [...this.entries].filter((e) => e !== keep && !e.pinned && !e.busy).sort((a, b) => a.lastUsed - b.lastUsed);
    const victims: T[] = [];
    for (const candidate of candidates) {
      if (excess <= 0) break;
      victims.push(candidate);
      excess -= candidate.bytes;
    }
    for (const victim of victims) this.entries.delete(victim);
    return victims;
  }

  delete(entry: T): boolean {
    return this.entries.delete(entry);
  }

  /** Idle entries unused for their idle timeout; removed from the books, the caller unloads them. */
  takeIdle(now: number, idleMs: (entry: T) => number): T[] {
    const idle = [...this.entries].filter((e) => {
      const limit = idleMs(e);
      return !e.pinned && !e.busy && limit > 0 && now - e.lastUsed >= limit;
    });
    for (const e of idle) this.entries.delete(e);
    return idle;
  }
}
