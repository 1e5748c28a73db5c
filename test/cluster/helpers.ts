// Shared pieces of the cluster tests: expected outputs from onnxruntime in-process, job events.
import { QueueEvents } from 'bullmq';
import Redis from 'ioredis';
import { OrtEngine } from '../../lib/engine/ort-engine';
import type { Feeds, HostTensor } from '../../lib/engine/tensor';
import { serializeModel, type Model } from '../../lib/onnx';
import { rowsInput } from '../runtime/fixtures';

/** One request of `rows` rows for the 8-input MLPs, distinct per `index`. */
export function request(index: number, rows = 1): Feeds {
  return { input: { type: 'float32', dims: [rows, 8], data: rowsInput(rows, 8, index * 3) } };
}

/** What onnxruntime gives in-process for each feeds, the reference every cluster result must equal. */
export async function expectedOutputs(model: Model, feeds: Feeds[]): Promise<HostTensor[]> {
  const session = await new OrtEngine().load(serializeModel(model));
  try {
    const out: HostTensor[] = [];
    for (const f of feeds) out.push((await session.run(f)).output);
    return out;
  } finally {
    await session.dispose();
  }
}

export function values(tensor: HostTensor): number[] {
  return Array.from(tensor.data as Float32Array);
}

/** The id of the newest event of a queue's stream now ('0-0' when there is none): where jobEvents may start. */
export async function streamTop(redis: string, prefix: string, queue: string): Promise<string> {
  const url = new URL(redis);
  const client = new Redis({ host: url.hostname, port: Number(url.port), password: decodeURIComponent(url.password) || undefined });
  try {
    return (await client.xrevrange(`${prefix}:${queue}:events`, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0-0';
  } finally {
    client.disconnect();
  }
}

/**
 * Resolves when `count` distinct jobs of `queue` have had `event` ('added', 'active', ...) after the
 * stream entry `from` (default: its start): nothing that happened since is missed, however late the call.
 */
export async function jobEvents(redis: string, prefix: string, queue: string, event: 'added' | 'active', count: number, from = '0-0'): Promise<Set<string>> {
  const url = new URL(redis);
  const events = new QueueEvents(queue, { connection: { host: url.hostname, port: Number(url.port), password: decodeURIComponent(url.password) || undefined }, prefix, lastEventId: from });
  const seen = new Set<string>();
  try {
    await new Promise<void>((resolve) => {
      events.on(event, ({ jobId }: { jobId: string }) => {
        seen.add(jobId);
        if (seen.size >= count) resolve();
      });
    });
    return seen;
  } finally {
    await events.close();
  }
}

/** A promise per call and a counter: `settled(n)` resolves once n of them have resolved. */
export function settleCounter(): { track<T>(p: Promise<T>): Promise<T>; settled(n: number): Promise<void> } {
  let done = 0;
  const waiters: { n: number; resolve(): void }[] = [];
  return {
    track(p) {
      void p.then(() => {
        done++;
        for (const w of waiters.filter((w) => done >= w.n)) w.resolve();
      }, () => undefined);
      return p;
    },
    settled(n) {
      return done >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }));
    },
  };
}

let next = 0;
/** A key prefix of its own for each test, so tests share one redis-server without seeing each other. */
export function uniquePrefix(): string {
  return `t${process.pid}-${next++}`;
}
