// The prune and quantize suites time a pass's result against its input the same way: both models in
// onnxruntime-node with the same options, alternately on the same feeds (see timeSessionPair).
import type { CompareReport } from '../lib/compare/compare';
import type { LatencyStats } from '../lib/compare/latency';
import type { EngineOptions, ValueMetadata } from '../lib/engine/engine';
import { OrtEngine } from '../lib/engine/ort-engine';
import type { Feeds } from '../lib/engine/tensor';
import { serializeModel, type Model } from '../lib/onnx';
import { timeSessionPair } from './timing';

export interface PairSettings {
  runs: number;
  engine: EngineOptions;
}

/** Per feeds (made from the original's inputs): [original, result] median latencies after `warmup` untimed rounds of each. */
export async function timeModelPair(original: Model, result: Model, feedsFor: (inputs: readonly ValueMetadata[]) => Feeds[],
  settings: PairSettings, warmup: number): Promise<[LatencyStats, LatencyStats][]> {
  const engine = new OrtEngine();
  const a = await engine.load(serializeModel(original), settings.engine);
  const b = await engine.load(serializeModel(result), settings.engine);
  try {
    const out: [LatencyStats, LatencyStats][] = [];
    for (const f of feedsFor(a.inputs)) out.push(await timeSessionPair(a, b, f, settings.runs, warmup));
    return out;
  } finally {
    await a.dispose();
    await b.dispose();
  }
}

export interface OutputAccuracy { output: string; cosine: number | null; maxAbsError: number; maxRelativeError: number; top1Agreement: number | null }

export function accuracyOf(report: CompareReport | null | undefined): OutputAccuracy[] {
  return (report?.outputs ?? []).map((o) => ({ output: o.name, cosine: o.cosine, maxAbsError: o.maxAbsError, maxRelativeError: o.maxRelativeError, top1Agreement: o.top1Agreement }));
}
