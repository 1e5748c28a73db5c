// SmoothQuant on its own: the float model with its linear layers' inputs smoothed, for a user who
// quantizes elsewhere or wants to check that the outputs did not move (quantize's smoothQuant option
// runs the same pass before static calibration).
import type { Model } from '../../onnx/model';
import { collectSamples, inputMetadata } from '../calibrate';
import { GraphScope } from '../graph-scope';
import { resolveOptions, type QuantizeOptions } from '../options';
import { smoothActivations, type SmoothQuantReport } from './smooth-quant';

export type SmoothQuantOptions = Pick<QuantizeOptions, 'calibration' | 'randomSamples' | 'calibrationBatch' | 'dims' | 'shapes' | 'values' | 'seed' | 'engine' | 'exclude'> & {
  /** Migration strength α in (0, 1) (default 0.5). */
  alpha?: number;
};

/** A smoothed copy of `source` (not modified) and what was smoothed; every MatMul/Gemm/Conv of the main graph is considered. */
export async function smoothQuantModel(source: Model, options: SmoothQuantOptions = {}): Promise<{ model: Model; report: SmoothQuantReport; generated: boolean }> {
  const o = resolveOptions({ ...options, mode: 'static', smoothQuant: options.alpha ?? 0.5 });
  const model = source.clone();
  const scope = new GraphScope(model);
  const excluded = new Set(o.exclude ?? []);
  const linear = model.nodes().filter((r) => r.graphPath === 'main' && ['MatMul', 'Gemm', 'Conv'].includes(r.node.opType)
    && !excluded.has(r.node.name) && !excluded.has(r.node.output[0]));
  const { samples, generated } = await collectSamples(o, inputMetadata(model));
  const report = await smoothActivations(model, scope, linear, samples, o, o.smoothQuant as number);
  return { model, report, generated };
}
