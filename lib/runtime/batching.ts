// The dynamic batcher's pure parts: which queued requests form the next batch (Triton's
// preferred_batch_size / max_queue_delay semantics), merging them along the batch dimension
// (dim 0), and splitting the batch's outputs back as views, without copying.
import { elementCount, Feeds, HostTensor, TensorData } from '../engine/tensor';
import { ExecutionError } from './errors';
import { cropRows, PaddingPlan, paddedShapeKey } from './padding';

/**
 * Requests merge only when every input has the same dtype and the same dims after dim 0, and they
 * ask for the same outputs: a model with a dynamic dim besides the batch (a sequence length) gets
 * one batch per shape, unless the model pads that dim (padding.ts).
 */
export function batchKey(feeds: Feeds, outputs: readonly string[] | undefined, padding?: PaddingPlan): string {
  const shape = (name: string) => (padding ? paddedShapeKey(padding, name, feeds[name].dims) : feeds[name].dims.slice(1).join('x'));
  const parts = Object.keys(feeds)
    .sort()
    .map((name) => `${name}:${feeds[name].type}:${shape(name)}`);
  return `${parts.join('|')}>${outputs ? [...outputs].sort().join(',') : '*'}`;
}

export interface BatchingPolicy {
  /** Most rows in one run. */
  maxBatchSize: number;
  /** Ascending; a batch of one of these sizes goes at once. Empty: only max_batch_size or the delay sends a batch. */
  preferredBatchSizes: readonly number[];
  /** How long the oldest request may wait for a fuller batch (0: take what is queued now). */
  maxQueueDelayMs: number;
}

/** What the batcher reads of a queued request. */
export interface Batchable {
  readonly key: string;
  readonly rows: number;
  /** Clock time it entered the queue (ms). */
  readonly enqueuedAt: number;
}

/** Send `batch` now, or wait `waitMs` (clock ms) for more requests before sending anything. */
export type BatchDecision<T> = { batch: T[] } | { waitMs: number };

/**
 * The next batch from a queue in dispatch order: the head request and the requests behind it with
 * the same batchKey, up to max_batch_size rows. It goes at once when it is full or a prefix of it
 * makes a preferred size (the largest such prefix), or when the head has waited max_queue_delay.
 */
export function formBatch<T extends Batchable>(queue: readonly T[], policy: BatchingPolicy, now: number): BatchDecision<T> {
  const head = queue[0];
  const max = policy.maxBatchSize;
  const batch = [head];
  let rows = head.rows;
  for (let i = 1; i < queue.length && rows < max; i++) {
    const candidate = queue[i];
    if (candidate.key !== head.key || rows + candidate.rows > max) continue;
    batch.push(candidate);
    rows += candidate.rows;
  }
  if (rows >= max) return { batch };
  if (policy.preferredBatchSizes.length) {
    let prefixRows = 0;
    let best = 0;
    batch.forEach((entry, i) => {
      prefixRows += entry.rows;
      if (policy.preferredBatchSizes.includes(prefixRows)) best = i + 1;
    });
    if (best > 0) return { batch: best === batch.length ? batch : batch.slice(0, best) };
  }
  const waitMs = head.enqueuedAt + policy.maxQueueDelayMs - now;
  return waitMs > 0 ? { waitMs } : { batch };
}

type TypedArrayCtor = { new (length: number): Exclude<TensorData, string[]> };

function concatData(parts: TensorData[], total: number): TensorData {
  if (Array.isArray(parts[0])) return ([] as string[]).concat(...(parts as string[][]));
  const Ctor = parts[0].constructor as TypedArrayCtor;
  const out = new Ctor(total);
  let offset = 0;
  for (const part of parts as Exclude<TensorData, string[]>[]) {
    (out as Float32Array).set(part as Float32Array, offset);
    offset += part.length;
  }
  return out;
}

/** One feeds object holding every request's rows in order (one copy, into a buffer the batch owns). All feeds must share a batchKey. */
export function concatFeeds(list: readonly Feeds[]): Feeds {
  if (list.length === 1) return list[0];
  const merged: Feeds = {};
  for (const name of Object.keys(list[0])) {
    const tensors = list.map((f) => f[name]);
    const rows = tensors.reduce((sum, t) => sum + t.dims[0], 0);
    const dims = [rows, ...tensors[0].dims.slice(1)];
    merged[name] = { type: tensors[0].type, dims, data: concatData(tensors.map((t) => t.data), elementCount(dims)) };
  }
  return merged;
}

/** Rows [start, start + rows) of a tensor: a view over the same buffer for numeric data. */
function rowsView(tensor: HostTensor, start: number, rows: number): HostTensor {
  const rowSize = elementCount(tensor.dims.slice(1));
  const from = start * rowSize;
  const to = (start + rows) * rowSize;
  const data = Array.isArray(tensor.data) ? tensor.data.slice(from, to) : tensor.data.subarray(from, to);
  return { type: tensor.type, dims: [rows, ...tensor.dims.slice(1)], data: data as TensorData };
}

/**
 * Splits batched outputs back into one result per request, by the requests' row counts; numeric
 * outputs are views over the batch's buffers, except those cropped back from padding (copies).
 */
export function splitOutputs(
  outputs: Record<string, HostTensor>,
  rowCounts: readonly number[],
  padding?: { plan: PaddingPlan; sizes: readonly Record<string, number>[] },
): Record<string, HostTensor>[] {
  if (rowCounts.length === 1) return [outputs];
  const total = rowCounts.reduce((a, b) => a + b, 0);
  const results: Record<string, HostTensor>[] = rowCounts.map(() => ({}));
  for (const [name, tensor] of Object.entries(outputs)) {
    if (tensor.dims[0] !== total) {
      throw new ExecutionError(`output ${name} has first dim ${tensor.dims[0]}, not the batch size ${total}; set max_batch_size to 0 for a model without a batch dim`);
    }
    let start = 0;
    rowCounts.forEach((rows, i) => {
      results[i][name] = (padding && cropRows(padding.plan, name, tensor, start, rows, padding.sizes[i])) || rowsView(tensor, start, rows);
      start += rows;
    });
  }
  return results;
}
