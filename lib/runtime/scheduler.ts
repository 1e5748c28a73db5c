// Per model version: a priority queue of requests, the dynamic batcher that merges them
// along dim 0, and dispatch of each batch to the least-loaded instance.
import { performance } from 'perf_hooks';
import type { Feeds, HostTensor } from '../engine/tensor';
import { batchKey, concatFeeds, splitOutputs } from './batching';
import { ExecutionError, OverloadedError, RequestCancelledError, RequestTimeoutError, ShuttingDownError } from './errors';
import type { InstanceResult } from './instance';

/** What the scheduler needs from an instance (a worker thread in production). */
export interface Executor {
  readonly inflight: number;
  readonly failure: string | undefined;
  run(feeds: Feeds, outputs: string[] | undefined, transferInputs: boolean): Promise<InstanceResult>;
}

export interface SchedulerPolicy {
  /** 0: every request runs alone. */
  maxBatchSize: number;
  /** Undefined: requests never merge. */
  dynamicBatching?: { preferredBatchSizes: readonly number[]; maxQueueDelayMs: number };
  maxQueueSize: number;
  /** 0: no timeout. */
  timeoutMs: number;
  defaultPriority: number;
}

export interface SchedulerObserver {
  onDispatch?(queueMs: number): void;
  onExecution?(rows: number, requests: number, computeMs: number): void;
  onQueueDepth?(depth: number): void;
}

/** The part of AbortSignal the scheduler uses; an AbortSignal fits. */
export interface CancelSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export interface SubmitOptions {
  outputs?: string[];
  /** Larger runs first; default the model's default_priority. */
  priority?: number;
  /** Overrides the model's queue timeout; 0 disables it. */
  timeoutMs?: number;
  /** Cancels the request: a queued one leaves the queue, a running one is answered at once. */
  signal?: CancelSignal;
  /** The caller gives up the feeds' buffers: they move to the instance instead of being copied (the server's decoded requests). */
  transferInputs?: boolean;
}

interface Entry {
  feeds: Feeds;
  rows: number;
  key: string;
  outputs: string[] | undefined;
  transferInputs: boolean;
  priority: number;
  seq: number;
  enqueuedAt: number;
  state: 'queued' | 'running' | 'done';
  resolve(outputs: Record<string, HostTensor>): void;
  reject(err: Error): void;
  cleanup(): void;
}

export class Scheduler {
  private readonly queue: Entry[] = [];
  private seq = 0;
  private running = 0;
  private holdTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly executors: readonly Executor[],
    private readonly policy: SchedulerPolicy,
    private readonly observer: SchedulerObserver = {},
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  get idle(): boolean {
    return this.queue.length === 0 && this.running === 0;
  }

  /** `rows` is the request's size along dim 0 (validated by the caller). */
  submit(feeds: Feeds, rows: number, options: SubmitOptions = {}): Promise<Record<string, HostTensor>> {
    if (this.closed) return Promise.reject(new ShuttingDownError());
    if (this.queue.length >= this.policy.maxQueueSize) {
      return Promise.reject(new OverloadedError(`queue is full (${this.policy.maxQueueSize} requests waiting); retry later`));
    }
    if (options.signal?.aborted) return Promise.reject(new RequestCancelledError());
    return new Promise((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.policy.timeoutMs;
      let timer: NodeJS.Timeout | undefined;
      const entry: Entry = {
        feeds,
        rows,
        // Only a batcher compares keys: without one, no request pays for building it.
        key: this.policy.dynamicBatching ? batchKey(feeds, options.outputs) : '',
        outputs: options.outputs,
        transferInputs: options.transferInputs === true,
        priority: options.priority ?? this.policy.defaultPriority,
        seq: this.seq++,
        enqueuedAt: performance.now(),
        state: 'queued',
        resolve,
        reject,
        cleanup: () => {
          if (timer) clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
        },
      };
      const onAbort = () => this.abandon(entry, new RequestCancelledError());
      if (timeoutMs > 0) {
        timer = setTimeout(() => this.abandon(entry, new RequestTimeoutError(`request timed out after ${timeoutMs} ms`)), timeoutMs);
      }
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.enqueue(entry);
      this.pump();
    });
  }

  /** Resolves once nothing is queued or running. */
  drain(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Takes no new requests; those already queued still run. */
  close(): void {
    this.closed = true;
  }

  private enqueue(entry: Entry): void {
    // Higher priority first, FIFO within a priority.
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.queue[mid].priority >= entry.priority) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, entry);
    this.observer.onQueueDepth?.(this.queue.length);
  }

  /** Timeout or cancellation: a queued request leaves the queue; a running one is answered now and its result dropped. */
  private abandon(entry: Entry, err: Error): void {
    if (entry.state === 'done') return;
    if (entry.state === 'queued') {
      this.queue.splice(this.queue.indexOf(entry), 1);
      this.observer.onQueueDepth?.(this.queue.length);
      // Nothing left to hold a batch for: a pending hold timer would only keep the process alive.
      if (this.queue.length === 0 && this.holdTimer) {
        clearTimeout(this.holdTimer);
        this.holdTimer = undefined;
      }
    }
    this.settle(entry, err);
    this.notifyIfIdle();
  }

  private settle(entry: Entry, outcome: Record<string, HostTensor> | Error): void {
    if (entry.state === 'done') return;
    entry.state = 'done';
    entry.cleanup();
    if (outcome instanceof Error) entry.reject(outcome);
    else entry.resolve(outcome);
  }

  private pickExecutor(): Executor | undefined {
    let best: Executor | undefined;
    for (const executor of this.executors) {
      if (executor.failure || executor.inflight > 0) continue;
      if (!best || executor.inflight < best.inflight) best = executor;
    }
    return best;
  }

  /** The next batch: the head request and the compatible requests behind it, up to max_batch_size rows. */
  private collect(): Entry[] | undefined {
    const head = this.queue[0];
    const batching = this.policy.dynamicBatching;
    if (!batching || this.policy.maxBatchSize === 0) return [head];
    const max = this.policy.maxBatchSize;
    const batch = [head];
    let rows = head.rows;
    for (let i = 1; i < this.queue.length && rows < max; i++) {
      const candidate = this.queue[i];
      if (candidate.key !== head.key || rows + candidate.rows > max) continue;
      batch.push(candidate);
      rows += candidate.rows;
    }
    if (rows === max) return batch;
    // A preferred size reachable by a prefix of the batch goes now.
    const preferred = batching.preferredBatchSizes;
    if (preferred.length) {
      let prefixRows = 0;
      let best = 0;
      batch.forEach((entry, i) => {
        prefixRows += entry.rows;
        if (preferred.includes(prefixRows)) best = i + 1;
      });
      if (best > 0) return batch.slice(0, best);
    }
    const waited = performance.now() - head.enqueuedAt;
    if (waited < batching.maxQueueDelayMs) {
      if (!this.holdTimer) {
        this.holdTimer = setTimeout(() => {
          this.holdTimer = undefined;
          this.pump();
        }, Math.max(0, batching.maxQueueDelayMs - waited));
      }
      return undefined;
    }
    return batch;
  }

  private pump(): void {
    while (this.queue.length > 0) {
      if (this.executors.every((e) => e.failure)) {
        for (const entry of this.queue.splice(0)) this.settle(entry, new ExecutionError(this.executors[0]?.failure ?? 'no instance'));
        this.notifyIfIdle();
        return;
      }
      const executor = this.pickExecutor();
      if (!executor) return;
      const batch = this.collect();
      if (!batch) return;
      if (this.holdTimer) {
        clearTimeout(this.holdTimer);
        this.holdTimer = undefined;
      }
      for (const entry of batch) this.queue.splice(this.queue.indexOf(entry), 1);
      this.observer.onQueueDepth?.(this.queue.length);
      this.execute(executor, batch);
    }
  }

  private execute(executor: Executor, batch: Entry[]): void {
    const now = performance.now();
    for (const entry of batch) {
      entry.state = 'running';
      this.observer.onDispatch?.(now - entry.enqueuedAt);
    }
    const merged = batch.length > 1;
    const feeds = merged ? concatFeeds(batch.map((e) => e.feeds)) : batch[0].feeds;
    const rows = batch.reduce((sum, e) => sum + e.rows, 0);
    this.running++;
    const finish = (outcome: InstanceResult | Error) => {
      this.running--;
      // The instance is free: give it the next batch before answering this one.
      this.pump();
      try {
        if (outcome instanceof Error) throw outcome;
        this.observer.onExecution?.(rows, batch.length, outcome.computeMs);
        const parts = splitOutputs(outcome.outputs, batch.map((e) => e.rows));
        batch.forEach((entry, i) => this.settle(entry, parts[i]));
      } catch (err) {
        batch.forEach((entry) => this.settle(entry, err as Error));
      }
      this.notifyIfIdle();
    };
    try {
      executor.run(feeds, batch[0].outputs, merged || batch[0].transferInputs).then(finish, finish);
    } catch (err) {
      finish(err as Error);
    }
  }

  private notifyIfIdle(): void {
    if (!this.idle || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
