// Waits for jobs to finish through BullMQ's event stream: one QueueEvents per queue, shared by
// every job this process waits for. Each QueueEvents starts at the stream's newest entry read
// before any job is added, so no completion can slip between adding a job and listening for it.
import { QueueEvents } from 'bullmq';
import type Redis from 'ioredis';
import type { RedisConnectionOptions } from './connection';
import { errorFromReason } from './failure';
import { clusterKeys } from './names';

interface Pending {
  resolve(returnvalue: unknown): void;
  reject(err: Error): void;
}

export interface WaiterEvents {
  /** A job of `queue` went back to wait because its worker stopped renewing its lock. */
  onStalled?(queue: string, jobId: string): void;
}

export class JobWaiter {
  private readonly keys;
  private readonly listeners = new Map<string, Promise<QueueEvents>>();
  private readonly pending = new Map<string, Map<string, Pending>>();

  constructor(
    private readonly redis: Redis,
    private readonly connection: RedisConnectionOptions,
    private readonly prefix: string,
    private readonly events: WaiterEvents = {},
  ) {
    this.keys = clusterKeys(prefix);
  }

  /** Resolves once events of `queue` are being collected; call it before adding a job there. */
  watch(queue: string): Promise<QueueEvents> {
    let listener = this.listeners.get(queue);
    if (!listener) {
      listener = this.listen(queue);
      this.listeners.set(queue, listener);
      listener.catch(() => this.listeners.delete(queue));
    }
    return listener;
  }

  private async listen(queue: string): Promise<QueueEvents> {
    const newest = await this.redis.xrevrange(this.keys.events(queue), '+', '-', 'COUNT', 1);
    const lastEventId = newest[0]?.[0] ?? '0-0';
    const events = new QueueEvents(queue, { connection: this.connection, prefix: this.prefix, lastEventId });
    // Connection errors are retried inside QueueEvents; an error listener keeps them from being thrown.
    events.on('error', () => undefined);
    events.on('completed', ({ jobId, returnvalue }) => this.settle(queue, jobId, (p) => p.resolve(returnvalue)));
    events.on('failed', ({ jobId, failedReason }) => this.settle(queue, jobId, (p) => p.reject(errorFromReason(failedReason))));
    events.on('stalled', ({ jobId }) => this.events.onStalled?.(queue, jobId));
    await events.waitUntilReady();
    return events;
  }

  private settle(queue: string, jobId: string, how: (p: Pending) => void): void {
    const jobs = this.pending.get(queue);
    const p = jobs?.get(jobId);
    if (!p) return;
    jobs!.delete(jobId);
    how(p);
  }

  /** The job's return value when it completes; its failure as the runtime error it stands for. */
  wait(queue: string, jobId: string): Promise<unknown> {
    let jobs = this.pending.get(queue);
    if (!jobs) this.pending.set(queue, (jobs = new Map()));
    const existing = jobs;
    return new Promise((resolve, reject) => existing.set(jobId, { resolve, reject }));
  }

  /** Settles a waited-for job from outside the event stream (found finished after a reconnection). */
  resolve(queue: string, jobId: string, returnvalue: unknown): void {
    this.settle(queue, jobId, (p) => p.resolve(returnvalue));
  }

  reject(queue: string, jobId: string, err: Error): void {
    this.settle(queue, jobId, (p) => p.reject(err));
  }

  /** Jobs waited for now, by queue. */
  waiting(): [queue: string, jobId: string][] {
    return [...this.pending].flatMap(([queue, jobs]) => [...jobs.keys()].map((id): [string, string] => [queue, id]));
  }

  async close(): Promise<void> {
    const listeners = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.all(listeners.map((l) => l.then((e) => e.close(), () => undefined)));
  }
}
