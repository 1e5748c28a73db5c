// Per model version: a priority queue of requests, the dynamic batcher that merges them
// along dim 0, deadlines and cancellation, and dispatch of each batch to the least-loaded instance.
import type { Feeds, HostTensor } from '../engine/tensor';
import { batchKey, concatFeeds, formBatch, splitOutputs } from './batching';
import { Clock, systemClock, TimerHandle } from './clock';
import {
  DeadlineExceededError,
  ExecutionError,
  OverloadedError,
  RequestCancelledError,
  RequestTimeoutError,
  ShuttingDownError,
} from './errors';
import type { InstanceResult } from './instance-session';
import { concatPadded, PaddingPlan, paddedSizes } from './padding';

/** What the scheduler needs from an instance (ModelInstance in production). */
export interface Executor {
  /** Runs sent to this instance and not yet answered, whoever sent them. */
  readonly inflight: number;
  readonly failure: string | undefined;
  /** The error for requests once failed (default: 500 execution_failed naming failure). */
  failureError?(): Error;
  run(feeds: Feeds, outputs: string[] | undefined, transferInputs: boolean): Promise<InstanceResult>;
}

export interface SchedulerPolicy {
  /** 0: every request runs alone. */
  maxBatchSize: number;
  /** Undefined: requests never merge. */
  dynamicBatching?: { preferredBatchSizes: readonly number[]; maxQueueDelayMs: number };
  maxQueueSize: number;
  /** The model's queue timeout; 0: none. */
  timeoutMs: number;
  defaultPriority: number;
  /**
   * Batches an instance may hold at once (default 1: a batch is formed when an instance is free,
   * so requests that arrive meanwhile join the next one). More lets an instance queue its next
   * batch while it runs one.
   */
  maxInflightPerInstance?: number;
  /** Named dynamic dims that requests may differ in: padded up to the batch's largest (dynamic_batching.padding). */
  padding?: PaddingPlan;
}

/** Why a request was given up: its client went away, its own deadline, or the model's queue timeout. */
export type CancelReason = 'client' | 'deadline' | 'timeout';

export interface SchedulerObserver {
  onDispatch?(queueMs: number): void;
  onExecution?(rows: number, requests: number, computeMs: number): void;
  onQueueDepth?(depth: number): void;
  /** `stage` queued: the request never ran; running: its batch was already sent and its result is dropped. */
  onCancelled?(reason: CancelReason, stage: 'queued' | 'running'): void;
}

/** The part of AbortSignal the scheduler uses; an AbortSignal fits. */
export interface CancelSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * Per-request options of the runtime's infer call (ModelRuntime.infer), for HTTP, gRPC and
 * library callers alike. A request whose deadline passes, or whose signal aborts, while it is
 * queued leaves the queue and never runs; one already running is answered at once (its result is dropped).
 */
export interface SubmitOptions {
  outputs?: string[];
  /** Larger runs first; default the model's default_priority. */
  priority?: number;
  /** Relative deadline in ms from submission; replaces the model's queue timeout; 0: none. Fails with DeadlineExceededError (504, `deadline_exceeded`). */
  timeoutMs?: number;
  /** Absolute deadline, epoch ms or a Date (a gRPC deadline); already past: fails at once. The earlier of this and timeoutMs applies. */
  deadline?: number | Date;
  /** Cancels the request (RequestCancelledError, 499, `cancelled`). */
  signal?: CancelSignal;
  /** The caller gives up the feeds' buffers: they move to the instance instead of being copied (the server's decoded requests). */
  transferInputs?: boolean;
}

interface Entry {
  feeds: Feeds;
  /** Its size in each padded dim (empty without padding). */
  sizes: Record<string, number>;
  rows: number;
  key: string;
  outputs: string[] | undefined;
  transferInputs: boolean;
  priority: number;
  enqueuedAt: number;
  /** Clock time after which it must not run; Infinity: none. */
  deadline: number;
  expired(): Error;
  expiry: CancelReason;
  state: 'queued' | 'running' | 'done';
  resolve(outputs: Record<string, HostTensor>): void;
  reject(err: Error): void;
  cleanup(): void;
}

interface Load {
  batches: number;
  rows: number;
}

export class Scheduler {
  private queue: Entry[] = [];
  private running = 0;
  private holdTimer: TimerHandle | undefined;
  private closed = false;
  private pauses = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly loads = new Map<Executor, Load>();
  private readonly maxInflight: number;

  constructor(
    private readonly executors: readonly Executor[],
    private readonly policy: SchedulerPolicy,
    private readonly observer: SchedulerObserver = {},
    private readonly clock: Clock = systemClock,
  ) {
    for (const executor of executors) this.loads.set(executor, { batches: 0, rows: 0 });
    this.maxInflight = Math.max(1, policy.maxInflightPerInstance ?? 1);
  }

  get queued(): number {
    return this.queue.length;
  }

  get idle(): boolean {
    return this.queue.length === 0 && this.running === 0;
  }

  /** Rows and batches this scheduler has in flight on each instance, in the executors' order. */
  get instanceLoads(): Load[] {
    return this.executors.map((e) => ({ ...this.loads.get(e)! }));
  }

  /** `rows` is the request's size along dim 0 (validated by the caller). */
  submit(feeds: Feeds, rows: number, options: SubmitOptions = {}): Promise<Record<string, HostTensor>> {
    if (this.closed) return Promise.reject(new ShuttingDownError());
    if (options.signal?.aborted) {
      this.observer.onCancelled?.('client', 'queued');
      return Promise.reject(new RequestCancelledError());
    }
    const now = this.clock.now();
    const limit = this.deadlineOf(options, now);
    if (limit.at <= now) {
      this.observer.onCancelled?.(limit.reason, 'queued');
      return Promise.reject(limit.error());
    }
    if (this.queue.length >= this.policy.maxQueueSize) {
      return Promise.reject(new OverloadedError(`queue is full (${this.policy.maxQueueSize} requests waiting); retry later`));
    }
    return new Promise((resolve, reject) => {
      let timer: TimerHandle | undefined;
      const entry: Entry = {
        feeds,
        rows,
        // Only a batcher compares keys: without one, no request pays for building it.
        key: this.policy.dynamicBatching ? batchKey(feeds, options.outputs, this.policy.padding) : '',
        sizes: this.policy.padding ? paddedSizes(this.policy.padding, feeds) : {},
        outputs: options.outputs,
        transferInputs: options.transferInputs === true,
        priority: options.priority ?? this.policy.defaultPriority,
        enqueuedAt: now,
        deadline: limit.at,
        expired: limit.error,
        expiry: limit.reason,
        state: 'queued',
        resolve,
        reject,
        cleanup: () => {
          if (timer !== undefined) this.clock.clearTimer(timer);
          options.signal?.removeEventListener('abort', onAbort);
        },
      };
      const onAbort = () => this.abandon(entry, new RequestCancelledError(), 'client');
      if (Number.isFinite(limit.at)) timer = this.clock.setTimer(() => this.abandon(entry, limit.error(), limit.reason), limit.at - now);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (!this.bypass(entry, now)) {
        this.enqueue(entry);
        this.pump();
      }
    });
  }

  /** The request's deadline on the clock, what kind it is, and the error it fails with. */
  private deadlineOf(options: SubmitOptions, now: number): { at: number; reason: CancelReason; error: () => Error } {
    const ownTimeout = options.timeoutMs !== undefined;
    const timeoutMs = options.timeoutMs ?? this.policy.timeoutMs;
    let at = timeoutMs > 0 ? now + timeoutMs : Infinity;
    let reason: CancelReason = ownTimeout ? 'deadline' : 'timeout';
    let error = ownTimeout
      ? () => new DeadlineExceededError(`deadline exceeded: request timed out after ${timeoutMs} ms`)
      : () => new RequestTimeoutError(`request timed out after ${timeoutMs} ms (the model's queue timeout)`);
    if (options.deadline !== undefined) {
      const deadline = +options.deadline;
      if (deadline < at) {
        at = deadline;
        reason = 'deadline';
        error = () => new DeadlineExceededError('deadline exceeded: the request\'s deadline passed before it was answered');
      }
    }
    return { at, reason, error };
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

  /**
   * Stops dispatching (requests still queue, time out and cancel) until the returned function is
   * called: for maintenance, and for tests that need a request to stay queued.
   */
  pause(): () => void {
    this.pauses++;
    let resumed = false;
    return () => {
      if (resumed) return;
      resumed = true;
      this.pauses--;
      this.pump();
    };
  }

  /**
   * The batcher bypass: with batching off, a request that finds the queue empty and an instance free
   * goes straight to that instance, as pump would send it, without entering the queue. False: it queues.
   */
  private bypass(entry: Entry, now: number): boolean {
    if ((this.policy.dynamicBatching && this.policy.maxBatchSize > 0) || this.queue.length > 0 || this.pauses > 0) return false;
    const executor = this.pickExecutor();
    if (!executor) return false;
    entry.state = 'running';
    this.execute(executor, [entry], now);
    return true;
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

  /** Deadline or cancellation: a queued request leaves the queue; a running one is answered now and its result dropped. */
  private abandon(entry: Entry, err: Error, reason: CancelReason): void {
    if (entry.state === 'done') return;
    if (entry.state === 'queued') {
      this.queue.splice(this.queue.indexOf(entry), 1);
      this.observer.onQueueDepth?.(this.queue.length);
      // Nothing left to hold a batch for: a pending hold timer would only keep the process alive.
      if (this.queue.length === 0) this.clearHoldTimer();
    }
    this.observer.onCancelled?.(reason, entry.state);
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

  /** The instance with the fewest rows in flight (then the fewest runs) that can take another batch. */
  private pickExecutor(): Executor | undefined {
    let best: Executor | undefined;
    let bestLoad: Load | undefined;
    for (const executor of this.executors) {
      const load = this.loads.get(executor)!;
      if (executor.failure || load.batches >= this.maxInflight || executor.inflight >= this.maxInflight) continue;
      if (!best || load.rows < bestLoad!.rows || (load.rows === bestLoad!.rows && executor.inflight < best.inflight)) {
        best = executor;
        bestLoad = load;
      }
    }
    return best;
  }

  /** Queued requests whose deadline has passed leave before anything is dispatched (timers may fire late). */
  private dropExpired(now: number): void {
    if (!this.queue.some((e) => e.deadline <= now)) return;
    for (const entry of this.queue.filter((e) => e.deadline <= now)) {
      this.abandon(entry, entry.expired(), entry.expiry);
    }
  }

  private clearHoldTimer(): void {
    if (this.holdTimer === undefined) return;
    this.clock.clearTimer(this.holdTimer);
    this.holdTimer = undefined;
  }

  private pump(): void {
    while (this.queue.length > 0) {
      if (this.executors.every((e) => e.failure)) {
        const failed = this.queue;
        this.queue = [];
        const first = this.executors[0];
        for (const entry of failed) this.settle(entry, first?.failureError?.() ?? new ExecutionError(first?.failure ?? 'no instance'));
        this.notifyIfIdle();
        return;
      }
      if (this.pauses > 0) return;
      const executor = this.pickExecutor();
      if (!executor) return;
      const now = this.clock.now();
      this.dropExpired(now);
      if (this.queue.length === 0) return;
      const batching = this.policy.dynamicBatching;
      const decision = batching && this.policy.maxBatchSize > 0
        ? formBatch(this.queue, { maxBatchSize: this.policy.maxBatchSize, ...batching }, now)
        : { batch: [this.queue[0]] };
      if ('waitMs' in decision) {
        this.holdTimer ??= this.clock.setTimer(() => {
          this.holdTimer = undefined;
          this.pump();
        }, decision.waitMs);
        return;
      }
      this.clearHoldTimer();
      const { batch } = decision;
      for (const entry of batch) entry.state = 'running';
      this.queue = batch.length === 1 && this.queue[0] === batch[0] ? this.queue.slice(1) : this.queue.filter((e) => e.state === 'queued');
      this.observer.onQueueDepth?.(this.queue.length);
      this.execute(executor, batch, now);
    }
  }

  private execute(executor: Executor, batch: Entry[], now: number): void {
    for (const entry of batch) this.observer.onDispatch?.(now - entry.enqueuedAt);
    const merged = batch.length > 1;
    const padding = merged && this.policy.padding && Object.keys(batch[0].sizes).some((dim) => batch.some((e) => e.sizes[dim] !== batch[0].sizes[dim]))
      ? { plan: this.policy.padding, sizes: batch.map((e) => e.sizes) }
      : undefined;
    const list = batch.map((e) => e.feeds);
    const feeds = padding ? concatPadded(padding.plan, list, padding.sizes) : merged ? concatFeeds(list) : batch[0].feeds;
    const rows = batch.reduce((sum, e) => sum + e.rows, 0);
    const load = this.loads.get(executor)!;
    load.batches++;
    load.rows += rows;
    this.running++;
    const finish = (outcome: InstanceResult | Error) => {
      this.running--;
      load.batches--;
      load.rows -= rows;
      // The instance is free: give it the next batch before answering this one.
      this.pump();
      try {
        if (outcome instanceof Error) throw outcome;
        this.observer.onExecution?.(rows, batch.length, outcome.computeMs);
        const parts = splitOutputs(outcome.outputs, batch.map((e) => e.rows), padding);
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
