// GPTQ's statistics: runs the float model in onnxruntime on the calibration samples with each linear
// layer's input exposed as an output, and accumulates H = 2XᵀX per input (layers that read the same
// input, like q/k/v projections, share one).
import type { Model, NodeRef } from '../../onnx/model';
import { makeBatches } from '../calibration/batches';
import { collectSamples, inputMetadata, sessionExposing } from '../calibrate';
import type { ResolvedOptions } from '../options';
import { HessianAccumulator } from './gptq';
import type { GraphScope } from '../graph-scope';
import { gemmParts, matmulWeight } from '../weights';

export interface HessianTarget {
  /** The activation a linear layer multiplies (its first input). */
  name: string;
  graphPath: string;
  /** Its last axis: the layer's K. */
  k: number;
}

export interface CollectedHessians {
  /** Activation name -> H = 2XᵀX / rows, [K, K]. */
  hessians: Map<string, Float64Array>;
  /** Activations the samples never reached (their layers fall back to round-to-nearest), with why. */
  missing: Map<string, string>;
  samples: number;
  generated: boolean;
}

export function hessianTargets(candidates: readonly NodeRef[], kOf: (ref: NodeRef) => number | undefined): HessianTarget[] {
  const targets = new Map<string, HessianTarget>();
  for (const ref of candidates) {
    const k = kOf(ref);
    if (k !== undefined) targets.set(ref.node.input[0], { name: ref.node.input[0], graphPath: ref.graphPath, k });
  }
  return [...targets.values()];
}

export async function collectHessians(model: Model, targets: readonly HessianTarget[], o: ResolvedOptions): Promise<CollectedHessians> {
  const { session, exposed } = await sessionExposing(model, targets, o, 'gptq');
  // Values that are main-graph inputs were not exposed: they are read from the feeds.
  const mainInputs = new Set(model.graph.input.map((v) => v.name));
  try {
    const { samples, generated } = await collectSamples(o, inputMetadata(model));
    const accumulators = new Map(targets.map((t) => [t.name, new HessianAccumulator(t.k)]));
    const outputNames = [...new Set([...exposed.outputs.values()].flat())];
    const batches = makeBatches(samples, session.inputs, o.calibrationBatch);
    for (let b = 0; b < batches.length; b++) {
      const feeds = batches[b];
      const results = outputNames.length > 0 ? await session.run(feeds, outputNames) : {};
      for (const t of targets) {
        const sources = t.graphPath === 'main' && mainInputs.has(t.name) ? [feeds[t.name]] : (exposed.outputs.get(t.name) ?? []).map((n) => results[n]);
        for (const tensor of sources) {
          // An If branch not taken yields an empty tensor; a K that does not match is a shape the layer never multiplies.
          if (tensor && tensor.data instanceof Float32Array && tensor.data.length > 0 && tensor.dims[tensor.dims.length - 1] === t.k) {
            (accumulators.get(t.name) as HessianAccumulator).add(tensor.data);
          }
        }
      }
      o.onProgress?.('gptq statistics', b + 1, batches.length);
    }
    const hessians = new Map<string, Float64Array>();
    const missing = new Map(exposed.unreachable);
    for (const [name, acc] of accumulators) {
      if (acc.rows > 0) hessians.set(name, acc.hessian());
      else if (!missing.has(name)) missing.set(name, 'the calibration samples never reach it');
    }
    return { hessians, missing, samples: samples.length, generated };
  } finally {
    await session.dispose();
  }
}

/** H for every input of the linear `candidates`, plus what the report says about them. */
export async function gptqStatistics(model: Model, scope: GraphScope, candidates: readonly NodeRef[], o: ResolvedOptions):
  Promise<{ hessians: Map<string, Float64Array>; samples: number; generated: boolean; missing: number; warnings: string[] }> {
  const kOf = (ref: NodeRef) => {
    const w = ref.node.opType === 'Gemm' ? gemmParts(scope, ref) : matmulWeight(scope, ref);
    return typeof w === 'string' ? undefined : 'weight' in w ? w.weight.k : w.k;
  };
  const collected = await collectHessians(model, hessianTargets(candidates, kOf), o);
  return {
    hessians: collected.hessians,
    samples: collected.samples,
    generated: collected.generated,
    missing: collected.missing.size,
    warnings: collected.generated ? ['GPTQ statistics come from generated random inputs, not real data: pass calibration samples'] : [],
  };
}
