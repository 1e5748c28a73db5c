// How auto mode times a model: an injectable function, so tests choose among candidates without clocks.
// The default runs the model in onnxruntime-node: warm-up, then the median of a few timed runs.
import { OrtEngine } from '../../engine/ort-engine';
import type { EngineOptions } from '../../engine/engine';
import type { Feeds } from '../../engine/tensor';
import { measureLatency } from '../../compare/latency';

export interface LatencyProbe {
  /** "float" or the candidate's recipe. */
  label: string;
  model: Uint8Array | string;
  feeds: Feeds;
}

/** Median milliseconds per run of a model. */
export type LatencySource = (probe: LatencyProbe) => Promise<number>;

export function onnxruntimeLatency(runs: number, engine?: EngineOptions): LatencySource {
  return async ({ model, feeds }) => {
    const session = await new OrtEngine().load(model, engine);
    try {
      return (await measureLatency(session, feeds, { warmup: 2, runs })).medianMs;
    } finally {
      await session.dispose();
    }
  };
}
