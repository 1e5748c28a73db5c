// Merging requests along the batch dimension (dim 0) and splitting the results back.
import { elementCount, Feeds, HostTensor, TensorData } from '../engine/tensor';
import { ExecutionError } from './errors';

/** Requests merge only when every input has the same dtype and the same dims after dim 0, and they ask for the same outputs. */
export function batchKey(feeds: Feeds, outputs: readonly string[] | undefined): string {
  const parts = Object.keys(feeds)
    .sort()
    .map((name) => `${name}:${feeds[name].type}:${feeds[name].dims.slice(1).join('x')}`);
  return `${parts.join('|')}>${outputs ? [...outputs].sort().join(',') : '*'}`;
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

/** One feeds object holding every request's rows in order. All feeds must share a batchKey. */
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

function sliceRows(tensor: HostTensor, start: number, rows: number): HostTensor {
  const rowSize = elementCount(tensor.dims.slice(1));
  const data = tensor.data.slice(start * rowSize, (start + rows) * rowSize) as TensorData;
  return { type: tensor.type, dims: [rows, ...tensor.dims.slice(1)], data };
}

/** Splits batched outputs back into one result per request, by the requests' row counts. */
export function splitOutputs(outputs: Record<string, HostTensor>, rowCounts: readonly number[]): Record<string, HostTensor>[] {
  if (rowCounts.length === 1) return [outputs];
  const total = rowCounts.reduce((a, b) => a + b, 0);
  const results: Record<string, HostTensor>[] = rowCounts.map(() => ({}));
  for (const [name, tensor] of Object.entries(outputs)) {
    if (tensor.dims[0] !== total) {
      throw new ExecutionError(`output ${name} has first dim ${tensor.dims[0]}, not the batch size ${total}; set max_batch_size to 0 for a model without a batch dim`);
    }
    let start = 0;
    rowCounts.forEach((rows, i) => {
      results[i][name] = sliceRows(tensor, start, rows);
      start += rows;
    });
  }
  return results;
}
