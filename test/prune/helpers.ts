// Shared pieces of the pruning tests: running a model in onnxruntime, reading weights, small references.
import { OrtEngine } from '../../lib/engine/ort-engine';
import type { HostTensor } from '../../lib/engine/tensor';
import { randomNormal, serializeModel, type Model } from '../../lib/onnx';

export async function runModel(model: Model, feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
  const session = await new OrtEngine().load(serializeModel(model));
  try {
    return await session.run(feeds);
  } finally {
    await session.dispose();
  }
}

export function floatInput(dims: number[], seed: number): HostTensor {
  return { type: 'float32', dims, data: randomNormal(dims.reduce((a, b) => a * b, 1), seed) };
}

export function weight(model: Model, name: string): Float32Array {
  const t = model.initializer(name);
  if (!t) throw new Error(`no initializer ${name}`);
  return t.data as Float32Array;
}

export function dims(model: Model, name: string): number[] {
  const t = model.initializer(name);
  if (!t) throw new Error(`no initializer ${name}`);
  return t.dims;
}

export function zeros(values: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === 0) n++;
  return n;
}

/** Which columns of `original` [rows, cols] survive (in order) as the columns of `pruned` [rows, kept]. */
export function keptColumns(original: Float32Array, pruned: Float32Array, rows: number, cols: number): number[] {
  const kept = pruned.length / rows;
  const out: number[] = [];
  for (let j = 0; j < kept; j++) {
    const match = Array.from({ length: cols }, (_, c) => c).find((c) => {
      for (let r = 0; r < rows; r++) if (original[r * cols + c] !== pruned[r * kept + j]) return false;
      return true;
    });
    if (match === undefined) throw new Error(`pruned column ${j} is no column of the original`);
    out.push(match);
  }
  return out;
}

/** Indices of the `count` largest values, ascending. */
export function topIndices(scores: ArrayLike<number>, count: number): number[] {
  return Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]).slice(0, count).sort((a, b) => a - b);
}

/** L2 norm of each column of a row-major [rows, cols] matrix. */
export function columnNorms(m: Float32Array, rows: number, cols: number): number[] {
  return Array.from({ length: cols }, (_, c) => {
    let s = 0;
    for (let r = 0; r < rows; r++) s += m[r * cols + c] ** 2;
    return Math.sqrt(s);
  });
}

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-4): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / (1 + Math.abs(expected[i])));
  expect(worst).toBeLessThan(tolerance);
}

/** A copy of `model` where `name`'s entries at `indices` of `axis` are zero. */
export function withZeroed(model: Model, name: string, axis: number, indices: readonly number[]): Model {
  const copy = model.clone({ copyTensorData: true });
  const t = copy.initializer(name);
  if (!t) throw new Error(`no initializer ${name}`);
  const data = Float32Array.from(t.data as Float32Array);
  const inner = t.dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const size = t.dims[axis];
  const drop = new Set(indices);
  for (let i = 0; i < data.length; i++) if (drop.has(Math.floor(i / inner) % size)) data[i] = 0;
  copy.setInitializer(name, data, t.dims);
  return copy;
}

/** Indices in 0..count-1 that are not in `kept`. */
export function removed(count: number, kept: readonly number[]): number[] {
  const keep = new Set(kept);
  return Array.from({ length: count }, (_, i) => i).filter((i) => !keep.has(i));
}
