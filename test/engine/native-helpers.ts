// Runs one model in onnxruntime and in the native engine on the same feeds and measures how
// far apart the outputs are.
import { OrtEngine } from '../../lib/engine/ort-engine';
import { NativeEngine, type NativeEngineOptions, type NativeSession } from '../../lib/engine/native/native-engine';
import type { Feeds, HostTensor } from '../../lib/engine/tensor';
import { toFloat64 } from '../../lib/engine/tensor';
import { cosineSimilarity, top1Agreement } from '../../lib/compare/metrics';
import { serializeModel } from '../../lib/onnx/save';
import type { Model } from '../../lib/onnx/model';
import { randomNormal } from '../../lib/onnx/random';

export interface Agreement {
  cosine: number;
  /** max |ours - ort| / max |ort|: the error relative to the output's scale. */
  maxRelativeError: number;
  top1: number | null;
}

export function agreement(reference: HostTensor, candidate: HostTensor): Agreement {
  expect(candidate.dims).toEqual(reference.dims);
  expect(candidate.type).toBe(reference.type);
  const a = toFloat64(reference), b = toFloat64(candidate);
  let maxDiff = 0, scale = 0;
  for (let i = 0; i < a.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(a[i]));
    if (Number.isNaN(b[i]) !== Number.isNaN(a[i])) maxDiff = Infinity;
  }
  return { cosine: cosineSimilarity(a, b), maxRelativeError: scale === 0 ? maxDiff : maxDiff / scale, top1: top1Agreement(a, b, reference.dims) };
}

export function floatFeed(dims: number[], seed: number): HostTensor {
  const n = dims.reduce((p, d) => p * d, 1);
  return { type: 'float32', dims, data: randomNormal(n, seed) };
}

export interface EnginePair {
  ort: Awaited<ReturnType<OrtEngine['load']>>;
  native: NativeSession;
  dispose(): Promise<void>;
}

export async function loadBoth(model: Model | Uint8Array, options: NativeEngineOptions = {}): Promise<EnginePair> {
  const bytes = model instanceof Uint8Array ? model : serializeModel(model);
  const ort = await new OrtEngine().load(bytes, { threads: options.threads });
  const native = await new NativeEngine().load(bytes, options);
  return { ort, native, dispose: async () => { await ort.dispose(); await native.dispose(); } };
}

/** Per output name, how the native engine's output agrees with onnxruntime's. */
export async function compareRun(pair: EnginePair, feeds: Feeds): Promise<Record<string, Agreement>> {
  const [want, got] = await Promise.all([pair.ort.run(feeds), pair.native.run(feeds)]);
  const out: Record<string, Agreement> = {};
  for (const name of Object.keys(want)) out[name] = agreement(want[name], got[name]);
  return out;
}
