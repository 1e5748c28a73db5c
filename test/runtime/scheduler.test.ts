// The scheduler on its own, with in-process executors whose runs finish when the test says.
import type { Feeds, HostTensor } from '../../lib/engine/tensor';
import { OverloadedError, RequestCancelledError, RequestTimeoutError, ShuttingDownError } from '../../lib/runtime/errors';
import type { InstanceResult } from '../../lib/runtime/instance';
import { Executor, Scheduler, SchedulerPolicy } from '../../lib/runtime/scheduler';

/** Doubles every value; holds each run until release() (or runs at once when auto). */
class HeldExecutor implements Executor {
  inflight = 0;
  failure: string | undefined;
  runs: Feeds[] = [];
  private held: (() => void)[] = [];

  constructor(private readonly auto = false) {}

  run(feeds: Feeds): Promise<InstanceResult> {
    this.inflight++;
    this.runs.push(feeds);
    const x = feeds.x;
    const output: HostTensor = { type: 'float32', dims: x.dims, data: (x.data as Float32Array).map((v) => v * 2) };
    return new Promise((resolve) => {
      const finish = () => {
        this.inflight--;
        resolve({ outputs: { y: output }, computeMs: 1 });
      };
      if (this.auto) setImmediate(finish);
      else this.held.push(finish);
    });
  }

  release(): void {
    const held = this.held;
    this.held = [];
    held.forEach((finish) => finish());
  }
}

function feeds(rows: number, cols = 2, start = 0): Feeds {
  return { x: { type: 'float32', dims: [rows, cols], data: Float32Array.from({ length: rows * cols }, (_, i) => start + i) } };
}

const batching: SchedulerPolicy = {
  maxBatchSize: 8,
  dynamicBatching: { preferredBatchSizes: [], maxQueueDelayMs: 0 },
  maxQueueSize: 100,
  timeoutMs: 0,
  defaultPriority: 0,
};

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('Scheduler', () => {
  test('merges queued requests into one run up to max_batch_size and splits the results back', async () => {
    const executor = new HeldExecutor();
    const scheduler = new Scheduler([executor], batching);
    const first = scheduler.submit(feeds(1, 2, 100), 1);
    const rest = [3, 2, 4, 1].map((rows, i) => scheduler.submit(feeds(rows, 2, i * 10), rows));
    expect(executor.runs).toHaveLength(1);
    executor.release();
    await first;
    // The 3-, 2- and 1-row requests go together (6 rows); the 4-row one would pass 8 and waits.
    expect(executor.runs).toHaveLength(2);
    expect(executor.runs[1].x.dims).toEqual([6, 2]);
    executor.release();
    await tick();
    executor.release();
    const results = await Promise.all(rest);
    expect(executor.runs).toHaveLength(3);
    expect(executor.runs[2].x.dims).toEqual([4, 2]);
    [3, 2, 4, 1].forEach((rows, i) => {
      expect(results[i].y.dims).toEqual([rows, 2]);
      expect(Array.from(results[i].y.data as Float32Array)).toEqual(Array.from({ length: rows * 2 }, (_, k) => 2 * (i * 10 + k)));
    });
  });

  test('never merges requests of different shapes or output lists', async () => {
    const executor = new HeldExecutor();
    const scheduler = new Scheduler([executor], batching);
    const pending = [
      scheduler.submit(feeds(1, 2), 1),
      scheduler.submit(feeds(1, 3), 1),
      scheduler.submit(feeds(1, 2), 1),
      scheduler.submit(feeds(1, 3), 1, { outputs: ['y'] }),
      scheduler.submit(feeds(1, 3), 1),
    ];
    executor.release();
    await tick();
    expect(executor.runs.map((f) => f.x.dims)).toEqual([[1, 2], [2, 3]]);
    executor.release();
    await tick();
    expect(executor.runs.map((f) => f.x.dims)).toEqual([[1, 2], [2, 3], [1, 2]]);
    executor.release();
    await tick();
    executor.release();
    await Promise.all(pending);
    expect(executor.runs.map((f) => f.x.dims)).toEqual([[1, 2], [2, 3], [1, 2], [1, 3]]);
  });

  test('without dynamic batching every request runs alone', async () => {
    const executor = new HeldExecutor(true);
    const scheduler = new Scheduler([executor], { ...batching, dynamicBatching: undefined });
    await Promise.all([1, 2, 3].map(() => scheduler.submit(feeds(1), 1)));
    expect(executor.runs).toHaveLength(3);
  });

  test('waits up to max_queue_delay_ms to fill a batch, and a preferred size goes at once', async () => {
    const executor = new HeldExecutor(true);
    const delayed = new Scheduler([executor], { ...batching, dynamicBatching: { preferredBatchSizes: [4], maxQueueDelayMs: 30 } });
    const start = Date.now();
    const pending = [delayed.submit(feeds(1), 1), delayed.submit(feeds(1), 1)];
    await tick();
    expect(executor.runs).toHaveLength(0);
    await Promise.all(pending);
    expect(Date.now() - start).toBeGreaterThanOrEqual(25);
    expect(executor.runs.map((f) => f.x.dims[0])).toEqual([2]);
    const quick = [1, 2, 3, 4].map(() => delayed.submit(feeds(1), 1));
    await tick();
    expect(executor.runs.map((f) => f.x.dims[0])).toEqual([2, 4]);
    await Promise.all(quick);
  });

  test('runs higher priorities first, FIFO within a priority', async () => {
    const executor = new HeldExecutor();
    const scheduler = new Scheduler([executor], { ...batching, dynamicBatching: undefined });
    const order: string[] = [];
    const submit = (label: string, priority?: number) => scheduler.submit(feeds(1), 1, { priority }).then(() => order.push(label));
    const all = [submit('busy'), submit('low-1', -1), submit('normal-1'), submit('high', 5), submit('normal-2'), submit('low-2', -1)];
    for (let i = 0; i < 6; i++) {
      executor.release();
      await tick();
    }
    await Promise.all(all);
    expect(order).toEqual(['busy', 'high', 'normal-1', 'normal-2', 'low-1', 'low-2']);
  });

  test('sends each batch to an idle instance, least loaded first', async () => {
    const a = new HeldExecutor();
    const b = new HeldExecutor();
    const scheduler = new Scheduler([a, b], { ...batching, dynamicBatching: undefined });
    const pending = [1, 2, 3].map(() => scheduler.submit(feeds(1), 1));
    expect([a.runs.length, b.runs.length]).toEqual([1, 1]);
    b.release();
    await tick();
    expect([a.runs.length, b.runs.length]).toEqual([1, 2]);
    a.release();
    b.release();
    await Promise.all(pending);
  });

  test('rejects with a retryable error when the queue is full', async () => {
    const executor = new HeldExecutor();
    const scheduler = new Scheduler([executor], { ...batching, dynamicBatching: undefined, maxQueueSize: 1 });
    const running = scheduler.submit(feeds(1), 1);
    const queued = scheduler.submit(feeds(1), 1);
    const err = await scheduler.submit(feeds(1), 1).catch((e: Error) => e);
    expect(err).toBeInstanceOf(OverloadedError);
    expect((err as OverloadedError).retryAfterSeconds).toBe(1);
    executor.release();
    await tick();
    executor.release();
    await Promise.all([running, queued]);
  });

  test('a queued request times out or is cancelled without running; a running one is answered at once', async () => {
    const executor = new HeldExecutor();
    const scheduler = new Scheduler([executor], { ...batching, dynamicBatching: undefined });
    const running = scheduler.submit(feeds(1), 1, { timeoutMs: 20 });
    const timedOut = scheduler.submit(feeds(1), 1, { timeoutMs: 20 });
    const controller = new AbortController();
    const cancelled = scheduler.submit(feeds(1), 1, { signal: controller.signal });
    controller.abort();
    const [a, b, c] = await Promise.allSettled([running, timedOut, cancelled]);
    expect(a.status === 'rejected' && a.reason).toBeInstanceOf(RequestTimeoutError);
    expect(b.status === 'rejected' && b.reason).toBeInstanceOf(RequestTimeoutError);
    expect(c.status === 'rejected' && c.reason).toBeInstanceOf(RequestCancelledError);
    expect(scheduler.queued).toBe(0);
    executor.release();
    await scheduler.drain();
    expect(executor.runs).toHaveLength(1);
  });

  test('close takes no new requests and drain waits for the queued ones', async () => {
    const executor = new HeldExecutor();
    const scheduler = new Scheduler([executor], { ...batching, dynamicBatching: undefined });
    const pending = [scheduler.submit(feeds(1), 1), scheduler.submit(feeds(1), 1)];
    scheduler.close();
    await expect(scheduler.submit(feeds(1), 1)).rejects.toBeInstanceOf(ShuttingDownError);
    let drained = false;
    const drain = scheduler.drain().then(() => (drained = true));
    executor.release();
    await tick();
    expect(drained).toBe(false);
    executor.release();
    await drain;
    await Promise.all(pending);
  });
});
