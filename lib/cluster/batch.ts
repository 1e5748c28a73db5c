// Batch inference over a folder of samples: chunks of samples become child jobs of one parent job
// per batch (a BullMQ flow), at most `window` chunks in Redis at a time. Each output is written as
// <out>/<sample>.npz, atomically (temp file + rename). Chunk job ids follow from the batch and the
// chunk's input files, so a rerun adopts the chunks an interrupted run left in Redis (finished ones
// included) and skips samples whose output exists; a chunk delivered twice rewrites identical files.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { ValueMetadata } from '../engine/engine';
import { AtomicFileGroup, writeFully } from '../onnx/atomic-file';
import { RuntimeError } from '../runtime/errors';
import type { CancelSignal } from '../runtime/scheduler';
import { listSamples, readSample, type Sample } from './batch-inputs';
import { ClusterClient, type ClusterOptions } from './client';
import { bullPriority } from './jobs';
import { BATCH_QUEUE, ClusterConfigError, inferQueueName } from './names';
import { encodeNpz } from './npz-write';
import { encodeItems, type WireItem } from './wire';

export interface BatchOptions extends ClusterOptions {
  model: string;
  /** Default: the latest version the workers serve. */
  version?: number;
  /** Output names to write; default all. */
  outputs?: string[];
  /** Folder of samples (.npy, .npz or one folder per sample). */
  inputs: string;
  /** Folder for <sample>.npz outputs; made when missing; must not be the inputs folder or inside it. */
  out: string;
  /** Samples per job (default 16). */
  chunk?: number;
  /** Chunks queued or running at once (default 8): bounds what the batch keeps in Redis. */
  window?: number;
  /** Larger runs first, against other jobs of the model (default 0). */
  priority?: number;
  /** Per-chunk limit in ms (default 0: none). */
  timeoutMs?: number;
  /** Stops the batch: chunks in Redis stay there for the next run to adopt. */
  signal?: CancelSignal;
  onProgress?(done: number, total: number): void;
}

export interface BatchFailure {
  sample: string;
  error: string;
}

export interface BatchReport {
  model: string;
  batchId: string;
  samples: number;
  /** Samples whose output existed before this run. */
  skipped: number;
  written: number;
  failed: BatchFailure[];
  /** Chunk jobs this run needed, and how many of them an earlier run had left in Redis. */
  chunks: number;
  adopted: number;
  /** Stopped by the signal before the end: run again to resume. */
  interrupted: boolean;
}

interface Chunk {
  samples: Sample[];
  /** Samples of the chunk whose output is missing. */
  todo: Set<string>;
}

function outputFile(out: string, sample: Sample): string {
  return path.join(out, `${sample.name}.npz`);
}

function checkFolders(inputs: string, out: string): void {
  fs.mkdirSync(out, { recursive: true });
  const from = fs.realpathSync(inputs);
  const to = fs.realpathSync(out);
  if (to === from || to.startsWith(from + path.sep)) throw new ClusterConfigError(`the output folder ${out} must not be the inputs folder or inside it`);
}

function digest(parts: unknown[], length: number): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, length);
}

function writeAtomically(file: string, bytes: Uint8Array): void {
  const group = new AtomicFileGroup();
  try {
    writeFully(group.open(file), bytes, 0);
    group.commit();
  } catch (err) {
    group.abort();
    throw err;
  }
}

/** The chunk's samples as one payload; a sample that cannot be read travels as its error, so the layout never shifts. */
function chunkPayload(chunk: Chunk, inputs: readonly ValueMetadata[]): Buffer {
  return encodeItems(chunk.samples.map((sample): WireItem => {
    try {
      return { tensors: readSample(sample, inputs) };
    } catch (err) {
      return { error: { status: 400, message: (err as Error).message } };
    }
  }));
}

export async function runBatch(options: BatchOptions): Promise<BatchReport> {
  const chunkSize = options.chunk ?? 16;
  const window = options.window ?? 8;
  const priority = bullPriority(options.priority ?? 0);
  const client = new ClusterClient({ redis: options.redis, prefix: options.prefix, payloads: options.payloads });
  try {
    await client.connect();
    const model = await client.model(options.model, options.version);
    const samples = listSamples(options.inputs);
    checkFolders(options.inputs, options.out);
    const batchId = digest([options.model, options.version ?? 'latest', options.outputs ?? 'all', fs.realpathSync(options.inputs), fs.realpathSync(options.out), chunkSize], 16);
    const chunks: Chunk[] = [];
    for (let i = 0; i < samples.length; i += chunkSize) {
      const part = samples.slice(i, i + chunkSize);
      chunks.push({ samples: part, todo: new Set(part.filter((s) => !fs.existsSync(outputFile(options.out, s))).map((s) => s.name)) });
    }
    const pending = chunks.filter((c) => c.todo.size > 0);
    const total = pending.reduce((sum, c) => sum + c.todo.size, 0);
    const report: BatchReport = {
      model: options.model, batchId, samples: samples.length, skipped: samples.length - total, written: 0, failed: [],
      chunks: pending.length, adopted: 0, interrupted: false,
    };
    const parent = { id: `batch-${batchId}`, data: { model: options.model, samples: samples.length, inputs: path.basename(path.resolve(options.inputs)) } };
    const progress = () => options.onProgress?.(report.written + report.failed.length, total);
    progress();

    const runChunk = async (chunk: Chunk): Promise<void> => {
      const jobId = `chunk-${digest([batchId, chunk.samples.map((s) => [s.name, s.identity])], 32)}`;
      const submission = {
        queue: inferQueueName(options.model), kind: 'chunk' as const, priority, parent, adopt: true,
        data: { model: options.model, version: options.version, outputs: options.outputs, samples: chunk.samples.map((s) => s.name) },
        payload: chunkPayload(chunk, model.inputs),
      };
      let items: WireItem[];
      let answered = false;
      try {
        const done = await client.run(submission, jobId, options.timeoutMs ?? 0);
        if (done.items.length !== chunk.samples.length) {
          throw new RuntimeError(`the worker answered ${done.items.length} samples for a chunk of ${chunk.samples.length}`, 500);
        }
        if (done.adopted) report.adopted++;
        items = done.items;
        answered = true;
      } catch (err) {
        if (report.interrupted) return;
        items = chunk.samples.map(() => ({ error: { status: 500, message: (err as Error).message } }));
      }
      chunk.samples.forEach((sample, i) => {
        if (!chunk.todo.has(sample.name)) return;
        const item = items[i];
        try {
          if ('error' in item) throw new Error(item.error.message);
          writeAtomically(outputFile(options.out, sample), encodeNpz(item.tensors));
          report.written++;
        } catch (err) {
          report.failed.push({ sample: sample.name, error: (err as Error).message });
        }
      });
      if (answered) await client.discardOutput(submission.queue, jobId).catch(() => undefined);
      progress();
    };

    const inflight = new Set<Promise<void>>();
    const stopped = new Promise<void>((resolve) => {
      if (options.signal?.aborted) resolve();
      options.signal?.addEventListener('abort', () => resolve());
    });
    for (const chunk of pending) {
      while (inflight.size >= window) await Promise.race([...inflight, stopped]);
      if (options.signal?.aborted) break;
      const run = runChunk(chunk).finally(() => inflight.delete(run));
      inflight.add(run);
    }
    await Promise.race([Promise.all(inflight), stopped]);
    report.interrupted = options.signal?.aborted === true;
    if (!report.interrupted) {
      // Every chunk settled: the parent and its finished children go; a child still running (left by an older run with other inputs) keeps them.
      await (await client.queues.get(BATCH_QUEUE).getJob(parent.id))?.remove().catch(() => undefined);
    }
    report.failed.sort((a, b) => a.sample.localeCompare(b.sample));
    return report;
  } finally {
    await client.close();
  }
}
