// SmoothQuant (Xiao et al., 2023): activations of transformers carry a few channels 10-100x larger than
// the rest, so one per-tensor activation scale leaves the others a handful of integer steps. Per input
// channel j of a linear layer, s_j = max|X_j|^α / max|W_j|^(1-α) (X over the calibration samples and
// tokens, W over the rows j of every layer reading X): X is divided by s inside the op that makes it and
// the weight rows are multiplied by s, so the float model computes the same outputs while the
// activation's range flattens and the weights, quantized per output channel, take the difference.
import type { Feeds } from '../../engine/tensor';
import type { GraphProto } from '../../onnx/gen/onnx_pb';
import type { Model, NodeRef } from '../../onnx/model';
import type { GraphScope } from '../graph-scope';
import type { ResolvedOptions } from '../options';
import { labelOf } from '../selection';
import { channelAbsMax } from './channel-max';
import { channelOf, smoothPlaces, type ChannelEdit, type NotSmoothed, type SmoothPlace } from './places';

/** One smoothed activation, for the report. */
export interface SmoothedLayer {
  activation: string;
  /** The node whose constants took 1/s, and its op. */
  absorber: string;
  absorberOp: string;
  /** The linear layers whose weight rows took s. */
  layers: string[];
  channels: number;
  scale: { min: number; max: number };
  /** The largest channel max over the median one, before and after: how much flatter the activation became. */
  outlierRatio: { before: number; after: number };
}

export interface SmoothQuantReport {
  alpha: number;
  smoothed: SmoothedLayer[];
  /** Inputs of linear layers left as they were, and why. */
  notSmoothed: NotSmoothed[];
}

/** SmoothQuant's floor on s (as the paper's code): a dead channel must not blow up its weight row. */
const MIN_SCALE = 1e-5;

function median(values: Float64Array): number {
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const ratioOf = (max: Float64Array) => {
  const m = median(max);
  return m > 0 ? Math.max(...max) / m : Infinity;
};

/** Rewrites one constant: element (.., j) of a vector, row j or column j of a matrix, times factor[j]. */
function scaleConstant(scope: GraphScope, graph: GraphProto, edit: ChannelEdit, factor: Float64Array): void {
  const name = edit.node.input[edit.input];
  const c = scope.floatConstant(name, graph);
  if (!c) throw new Error(`smooth-quant: "${name}" is no longer a float constant`);
  const out = Float32Array.from(c.values, (v, i) => v * factor[channelOf(edit.along, c.dims, c.values.length, i)]);
  edit.node.input[edit.input] = scope.addInitializer(c.ref.graph, `${c.ref.name}_smoothed`, out, c.dims);
  scope.markReplaced(c.ref);
}

/** max |W_j| over row j (input channel j) of every weight reading the activation. */
function weightRowMax(scope: GraphScope, place: SmoothPlace, graph: GraphProto): Float64Array {
  const max = new Float64Array(place.channels);
  for (const edit of place.multiply) {
    const c = scope.floatConstant(edit.node.input[edit.input], graph);
    if (!c) continue;
    for (let i = 0; i < c.values.length; i++) {
      const j = channelOf(edit.along, c.dims, c.values.length, i);
      const a = Math.abs(c.values[i]);
      if (a > max[j]) max[j] = a;
    }
  }
  return max;
}

export function smoothingScales(activationMax: Float64Array, weightMax: Float64Array, alpha: number): Float64Array {
  return Float64Array.from(activationMax, (x, j) => {
    const w = weightMax[j];
    if (!(x > 0) || !(w > 0)) return 1;
    return Math.max(MIN_SCALE, x ** alpha / w ** (1 - alpha));
  });
}

/**
 * Smooths, in place, the inputs of the linear `candidates` of `model` (main graph) that an op before
 * them can absorb; statistics come from `samples`. The float outputs stay the same.
 */
export async function smoothActivations(model: Model, scope: GraphScope, candidates: readonly NodeRef[], samples: readonly Feeds[],
  o: ResolvedOptions, alpha: number): Promise<SmoothQuantReport> {
  const { places, notSmoothed } = smoothPlaces(model, scope, candidates);
  const report: SmoothQuantReport = { alpha, smoothed: [], notSmoothed };
  if (places.length === 0) return report;
  const maxima = await channelAbsMax(model, places.map((p) => ({ name: p.activation, channels: p.channels, axis: p.axis })), samples, o);
  const graph = model.graph;
  // Every s from the weights as they are; the edits then compose (rows times s, columns over s).
  const planned: { place: SmoothPlace; activationMax: Float64Array; scales: Float64Array }[] = [];
  for (const place of places) {
    const activationMax = maxima.get(place.activation);
    if (!activationMax) {
      notSmoothed.push({ activation: place.activation, reason: 'the calibration samples never reach it' });
      continue;
    }
    planned.push({ place, activationMax, scales: smoothingScales(activationMax, weightRowMax(scope, place, graph), alpha) });
  }
  for (const { place, activationMax, scales } of planned) {
    const inverse = Float64Array.from(scales, (s) => 1 / s);
    for (const edit of place.divide) scaleConstant(scope, graph, edit, inverse);
    for (const edit of place.multiply) scaleConstant(scope, graph, edit, scales);
    report.smoothed.push({
      activation: place.activation,
      absorber: labelOf(place.absorber),
      absorberOp: place.absorber.opType,
      layers: place.consumers.map(labelOf),
      channels: place.channels,
      scale: { min: Math.min(...scales), max: Math.max(...scales) },
      outlierRatio: { before: ratioOf(activationMax), after: ratioOf(Float64Array.from(activationMax, (x, j) => x / scales[j])) },
    });
  }
  scope.finish();
  return report;
}
