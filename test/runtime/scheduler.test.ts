// The scheduler on its own, with in-process executors whose runs finish when the test says and a
// clock the test steps (no test here waits on real time).
import type { Feeds, HostTensor } from '../../lib/engine/tensor';
import { formBatch } from '../../lib/runtime/batching';
import {
  DeadlineExceededError,
  errorCode,
  OverloadedError,
  RequestCancelledError,
  RequestTimeoutError,
  ShuttingDownError,
} from '../../lib/runtime/errors';
import type { InstanceResult } from '../../lib/runtime/instance-session';
import { CancelReason, Executor, Scheduler, SchedulerObserver, SchedulerPolicy } from '../../lib/runtime/scheduler';
import { FakeClock } from './fake-clock';

/** Doubles every value; holds each run until release() (or runs at once when auto). */
class HeldExecutor implements Executor {
  inflight = 0;
  failure: string | undefined;
  runs: Feeds[] = [];
  outputs: HostTensor[] = [];
  private held: (() => void)[] = [];

  constructor(private readonly auto = false) {}

  run(feeds: Feeds): Promise<InstanceResult> {
    this.inflight++;
    this.runs.push(feeds);
    const x = feeds.x;
    const output: HostTensor = { type: 'float32', dims: x.dims, data: (x.data as Float32Array).map((v) => v * 2) };
    this.outputs.push(output);
    return new Promise((resolve) => {
      const finish = () => {
        this.inflight--;
        resolve({ outputs: { y: output }, computeMs: 1 });
      };
      if (this.auto) setImmediate(finish);
      else this.held.push(finish);
    });
  }

  /** Finishes the oldest held run (or all of them). */
  release(all = true): void {
    const done = all ? this.held.splice(0) : this.held.splice(0, 1);
    done.forEach((finish) => finish());
  }

  get rowsRun(): number[] {
    return this.runs.map((f) => f.x.dims[0]);
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
const single: SchedulerPolicy = { ...batching, dynamicBatching: undefined };

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Counts the observer's cancellations by "reason/stage". */
function cancellations(): { observer: SchedulerObserver; counts: Record<string, number> } {
  const counts: Record<string, number> = {};
  return { counts, observer: { onCancelled: (reason: CancelReason, stage) => (counts[`${reason}/${stage}`] = (counts[`${reason}/${stage}`] ?? 0) + 1) } };
}

describe('formBatch', () => {
  const q = (rows: number, key = 'a', enqueuedAt = 0) => ({ rows, key, enqueuedAt });
  const policy = { maxBatchSize: 8, preferredBatchSizes: [] as number[], maxQueueDelayMs: 10 };

  test('takes the head and the same-shape requests behind it up to max_batch_size, skipping ones that do not fit', () => {
    const queue = [q(3), q(2, 'b'), q(4), q(6), q(2), q(1)];
    const decision = formBatch(queue, policy, 100);
    expect(decision).toEqual({ batch: [queue[0], queue[2], queue[5]] });
  });

  test('holds a batch that is not full until the head has waited max_queue_delay', () => {
    const queue = [q(1, 'a', 100), q(2, 'a', 104)];
    expect(formBatch(queue, policy, 103)).toEqual({ waitMs: 7 });
    expect(formBatch(queue, policy, 110)).toEqual({ batch: queue });
  });

  test('a preferred size goes at once: the largest prefix that makes one', () => {
    const queue = [q(1), q(1), q(2), q(1), q(1)];
    const decision = formBatch(queue, { ...policy, preferredBatchSizes: [2, 4] }, 0);
    expect(decision).toEqual({ batch: queue.slice(0, 3) });
    expect(formBatch([q(3)], { ...policy, preferredBatchSizes: [2, 4] }, 0)).toEqual({ waitMs: 10 });
  });
});

describe('Scheduler', () => {
  test('merges queued requests into one run up to max_batch_size and splits the results back as views over the batch output', async () => {
    const executor = new HeldExecutor();
    const scheduler = new Scheduler([executor], batching, {}, new FakeClock());
    const first = scheduler.submit(feeds(1, 2, 100), 1);
    const rest = [3, 2, 4, 1].map((rows, i) => scheduler.submit(feeds(rows, 2, i * 10), rows));
    expect(executor.runs).toHaveLength(1);
    executor.release();
    await first;
    // The 3-, 2- and 1-row requests go together (6 rows); the 4-row one would pass 8 and waits.
    expect(executor.rowsRun).toEqual([1, 6]);
    executor.release();
    await tick();
    executor.release();
    const results = await Promise.all(rest);
    expect(executor.rowsRun).toEqual([1, 6, 4]);
    [3, 2, 4, 1].forEach((rows, i) => {
      expect(results[i].y.dims).toEqual([rows, 2]);
      expect(Array.from(results[i].y.data as Float32Array)).toEqual(Array.from({ length: rows * 2 }, (_, k) => 2 * (i * 10 + k)));
    });
    // The 3-, 2- and 1-row answers share the 6-row run's output buffer: no copy.
    const batchOutput = executor.outputs[1].data as Float32Array;
    expect([0, 1, 3].map((i) => (results[i].y.data as Float32Array).buffer)).toEqual([batchOutput.buffer, batchOutput.buffer, batchOutput.buffer]);
    expect([0, 1, 3].map((i) => (results[i].y.data as Float32Array).byteOffset)).toEqual([0, 24, 40]);
  });

  test('groups requests by shape: different dims after the batch dim or output lists never share a run', async () => {
    const executor = new HeldExecutor();
    const scheduler = new Scheduler([executor], batching, {}, new FakeClock());
    const pending = [
      scheduler.submit(feeds(1, 2), 1),
      scheduler.submit(feeds(1, 3), 1),
      scheduler.submit(feeds(1, 2), 1),
      scheduler.submit(feeds(1, 3), 1, { outputs: ['y'] }),
      scheduler.submit(feeds(1, 3), 1),
    ];
    for (let i = 0; i < 3; i++) {
      executor.release();
      await tick();
    }
    executor.release();
    await Promise.all(pending);
    expect(executor.runs.map((f) => f.x.dims)).toEqual([[1, 2], [2, 3], [1, 2], [1, 3]]);
  });

  test('without dynamic batching every request runs alone', async () => {
    const executor = new HeldExecutor(true);
    const scheduler = new Scheduler([executor], single, {}, new FakeClock());
    await Promise.all([1, 2, 3].map(() => scheduler.submit(feeds(1), 1)));
    expect(executor.rowsRun).toEqual([1, 1, 1]);
  });

  test('batcher bypass: without batching, a request that finds an instance free goes to it inside submit, never queued; one that finds it busy queues', async () => {
    const executor = new HeldExecutor();
    const depths: number[] = [];
    const scheduler = new Scheduler([executor], single, { onQueueDepth: (depth) => depths.push(depth) }, new FakeClock());
    const first = scheduler.submit(feeds(1, 2, 0), 1);
    expect(executor.runs).toHaveLength(1);
    expect(depths).toEqual([]);
    const second = scheduler.submit(feeds(1, 2, 10), 1);
    expect(executor.runs).toHaveLength(1);
    expect(scheduler.queued).toBe(1);
    executor.release();
    expect(await first).toEqual({ y: { type: 'float32', dims: [1, 2], data: Float32Array.of(0, 2) } });
    expect(executor.runs).toHaveLength(2);
    executor.release();
    expect(await second).toEqual({ y: { type: 'float32', dims: [1, 2], data: Float32Array.of(20, 22) } });
    // With batching on, even a request that finds the instance free passes through the queue (the batcher picks).
    const batched = new HeldExecutor(true);
    const batchDepths: number[] = [];
    await new Scheduler([batched], batching, { onQueueDepth: (depth) => batchDepths.push(depth) }, new FakeClock()).submit(feeds(1), 1);
    expect(batchDepths).toEqual([1, 0]);
  });

  test('holds a partial batch for max_queue_delay_ms of clock time; a preferred size goes at once', async () => {
    const clock = new FakeClock();
    const executor = new HeldExecutor(true);
    const scheduler = new Scheduler([executor], { ...batching, dynamicBatching: { preferredBatchSizes: [4], maxQueueDelayMs: 30 } }, {}, clock);
    const pending = [scheduler.submit(feeds(1), 1)];
    clock.advance(10);
    pending.push(scheduler.submit(feeds(1), 1));
    clock.advance(19);
    await tick();
    expect(executor.runs).toHaveLength(0);
    clock.advance(1);
    await Promise.all(pending);
    expect(executor.rowsRun).toEqual([2]);
    const quick = [1, 2, 3, 4].map(() => scheduler.submit(feeds(1), 1));
    expect(executor.rowsRun).toEqual([2, 4]);
    await Promise.all(quick);
    expect(clock.pending).toBe(0);
  });

  test('runs higher priorities first, FIFO within a priority', async () => {
    const executor = new HeldExecutor();
    const scheduler = new Scheduler([executor], single, {}, new FakeClock());
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

  test('sends each batch to the instance with the fewest rows in flight, not the first one with room', async () => {
    const a = new HeldExecutor();
    const b = new HeldExecutor();
    const scheduler = new Scheduler([a, b], { ...single, maxInflightPerInstance: 2 }, {}, new FakeClock());
    const big = scheduler.submit(feeds(4), 4);
    const small = [1, 2, 3, 4].map(() => scheduler.submit(feeds(1), 1));
    // a: the 4-row run; b (fewer rows) takes 1-row runs until it holds its two, then a takes the next.
    expect([a.rowsRun, b.rowsRun]).toEqual([[4, 1], [1, 1]]);
    expect(scheduler.instanceLoads).toEqual([{ batches: 2, rows: 5 }, { batches: 2, rows: 2 }]);
    expect(scheduler.queued).toBe(1);
    b.release(false);
    await tick();
    expect([a.rowsRun, b.rowsRun]).toEqual([[4, 1], [1, 1, 1]]);
    a.release();
    b.release();
    await Promise.all([big, ...small]);
    expect(scheduler.instanceLoads).toEqual([{ batches: 0, rows: 0 }, { batches: 0, rows: 0 }]);
  });

  test('rejects with a retryable error when the queue is full', async () => {
    const executor = new HeldExecutor();
    const scheduler = new Scheduler([executor], { ...single, maxQueueSize: 1 }, {}, new FakeClock());
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

  test('a request whose own timeout passes while queued fails deadline_exceeded and never runs; a running one is answered at once', async () => {
    const clock = new FakeClock();
    const executor = new HeldExecutor();
    const { observer, counts } = cancellations();
    const scheduler = new Scheduler([executor], single, observer, clock);
    const running = scheduler.submit(feeds(1), 1, { timeoutMs: 20 });
    const queued = scheduler.submit(feeds(1), 1, { timeoutMs: 20 });
    const patient = scheduler.submit(feeds(1), 1, { timeoutMs: 50 });
    clock.advance(20);
    const [a, b] = await Promise.allSettled([running, queued]);
    for (const outcome of [a, b]) {
      expect(outcome.status === 'rejected' && outcome.reason).toBeInstanceOf(DeadlineExceededError);
      expect(errorCode((outcome as PromiseRejectedResult).reason)).toBe('deadline_exceeded');
      expect((outcome as PromiseRejectedResult).reason.status).toBe(504);
    }
    expect(counts).toEqual({ 'deadline/running': 1, 'deadline/queued': 1 });
    executor.release();
    await tick();
    executor.release();
    await patient;
    // The queued one never reached the instance.
    expect(executor.runs).toHaveLength(2);
    expect(clock.pending).toBe(0);
  });

  test('a deadline already past fails at once without queueing; one that passes while its timer is late is dropped before dispatch', async () => {
    const clock = new FakeClock();
    const executor = new HeldExecutor();
    const { observer, counts } = cancellations();
    const scheduler = new Scheduler([executor], single, observer, clock);
    await expect(scheduler.submit(feeds(1), 1, { deadline: clock.now() - 1 })).rejects.toBeInstanceOf(DeadlineExceededError);
    await expect(scheduler.submit(feeds(1), 1, { deadline: new Date(clock.now()) })).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(scheduler.queued).toBe(0);
    const running = scheduler.submit(feeds(1), 1);
    const late = scheduler.submit(feeds(1), 1, { deadline: clock.now() + 5, timeoutMs: 1000 });
    const next = scheduler.submit(feeds(1), 1);
    clock.jump(5);
    executor.release();
    await running;
    await expect(late).rejects.toThrow(/deadline passed/);
    expect(executor.runs).toHaveLength(2);
    executor.release();
    await next;
    expect(counts).toEqual({ 'deadline/queued': 3 });
  });

  test('the model queue timeout fails with code timeout; a client timeout of 0 turns it off', async () => {
    const clock = new FakeClock();
    const executor = new HeldExecutor();
    const { observer, counts } = cancellations();
    const scheduler = new Scheduler([executor], { ...single, timeoutMs: 100 }, observer, clock);
    const running = scheduler.submit(feeds(1), 1, { timeoutMs: 0 });
    const queued = scheduler.submit(feeds(1), 1);
    clock.advance(100);
    const err = await queued.catch((e: Error) => e);
    expect(err).toBeInstanceOf(RequestTimeoutError);
    expect(err).not.toBeInstanceOf(DeadlineExceededError);
    expect(errorCode(err as Error)).toBe('timeout');
    expect(counts).toEqual({ 'timeout/queued': 1 });
    executor.release();
    await running;
  });

  test('an aborted signal takes a queued request out of the queue: it never runs', async () => {
    const executor = new HeldExecutor();
    const { observer, counts } = cancellations();
    const scheduler = new Scheduler([executor], single, observer, new FakeClock());
    const running = scheduler.submit(feeds(1), 1);
    const controller = new AbortController();
    const cancelled = scheduler.submit(feeds(1), 1, { signal: controller.signal });
    expect(scheduler.queued).toBe(1);
    controller.abort();
    await expect(cancelled).rejects.toBeInstanceOf(RequestCancelledError);
    expect(scheduler.queued).toBe(0);
    await expect(scheduler.submit(feeds(1), 1, { signal: controller.signal })).rejects.toBeInstanceOf(RequestCancelledError);
    executor.release();
    await running;
    await scheduler.drain();
    expect(executor.runs).toHaveLength(1);
    expect(counts).toEqual({ 'client/queued': 2 });
  });

  test('pause holds dispatch (requests queue and merge) until resumed', async () => {
    const executor = new HeldExecutor(true);
    const scheduler = new Scheduler([executor], batching, {}, new FakeClock());
    const resume = scheduler.pause();
    const pending = [1, 2, 3].map((rows) => scheduler.submit(feeds(rows), rows));
    await tick();
    expect(executor.runs).toHaveLength(0);
    expect(scheduler.queued).toBe(3);
    resume();
    await Promise.all(pending);
    expect(executor.rowsRun).toEqual([6]);
  });

  test('close takes no new requests and drain waits for the queued ones', async () => {
    const executor = new HeldExecutor();
    const scheduler = new Scheduler([executor], single, {}, new FakeClock());
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
