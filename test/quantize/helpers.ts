// Shared by the quantize tests: running models in onnxruntime-node and reading what a model holds.
import * as ort from 'onnxruntime-node';
import { serializeModel, type Model } from '../../lib/onnx';

export async function runModel(model: Model, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(serializeModel(model));
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

/** Deterministic values in [-1, 1). */
export function floats(count: number, seed = 1): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

/** Op types of every node, subgraphs included, with counts. */
export function opCounts(model: Model): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { node } of model.nodes()) counts[node.opType] = (counts[node.opType] ?? 0) + 1;
  return counts;
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}
