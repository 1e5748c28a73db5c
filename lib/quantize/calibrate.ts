// Static calibration: runs the float model in onnxruntime on the calibration samples with the needed
// intermediate values exposed as outputs, and turns what it saw into one range per value.
import type { Feeds } from '../engine/tensor';
import type { Session, ValueMetadata } from '../engine/engine';
import { OrtEngine } from '../engine/ort-engine';
import { generateFeeds } from '../compare/inputs';
import type { Model } from '../onnx/model';
import { allGraphs } from '../onnx/proto-walk';
import { makeBatches } from './calibration/batches';
import { entropyThreshold } from './calibration/entropy';
import { exposeValues, type ExposeResult } from './calibration/expose-values';
import { percentileThreshold, TensorStats } from './calibration/histogram';
import { readCalibrationDir } from './calibration/samples';
import { modelSource } from './model-source';
import type { ResolvedOptions } from './options';
import type { CalibrationSummary } from './report';

export interface CalibrationTarget {
  name: string;
  /** Path of the graph whose node reads the value ("main", "main/If_0.then_branch", ...). */
  graphPath: string;
}

export interface CalibrationResult {
  /** Value name -> [min, max] to quantize with. */
  ranges: Map<string, [number, number]>;
  /** Values with no range, and why (never reached by the samples, inside a Scan body, ...). */
  missing: Map<string, string>;
  /** The samples (kept for verification, at most SAMPLES_KEPT). */
  samples: Feeds[];
  generated: boolean;
  summary: CalibrationSummary;
}

const SAMPLES_KEPT = 32;

/** The model's inputs as an engine describes them (for reading and generating samples). */
export function inputMetadata(model: Model): ValueMetadata[] {
  return model.inputs.map((i) => ({
    name: i.name,
    type: i.dtype ?? 'unknown',
    shape: i.dims ? i.dims.map((d) => (d === -1 ? null : d)) : null,
  }));
}

/** The calibration samples the options name, or generated ones when they name none. */
export async function collectSamples(o: ResolvedOptions, inputs: readonly ValueMetadata[]): Promise<{ samples: Feeds[]; generated: boolean }> {
  const source = o.calibration;
  if (source === undefined) {
    const samples = Array.from({ length: o.randomSamples }, (_, i) => generateFeeds(inputs, i, { seed: o.seed, dims: o.dims, shapes: o.shapes, values: o.values }));
    return { samples, generated: true };
  }
  if (typeof source === 'string') return { samples: readCalibrationDir(source, inputs), generated: false };
  const samples: Feeds[] = [];
  for await (const feeds of source as AsyncIterable<Feeds>) samples.push(feeds);
  if (samples.length === 0) throw new RangeError('the calibration data holds no samples');
  return { samples, generated: false };
}

function rangeOf(stats: TensorStats, o: ResolvedOptions): [number, number] {
  if (o.method === 'minmax') return [stats.min, stats.max];
  const t = o.method === 'percentile' ? percentileThreshold(stats, o.percentile) : entropyThreshold(stats);
  // Clip both tails at the threshold, but never beyond what was seen (a ReLU output stays [0, t]).
  return [Math.max(stats.min, -t), Math.min(stats.max, t)];
}

/**
 * `model` (not modified) in onnxruntime with `values` exposed as extra outputs (a value that is already
 * an input of the main graph needs no exposing): what calibration and GPTQ's statistics both run.
 */
export async function sessionExposing(model: Model, values: readonly { name: string; graphPath: string }[], o: ResolvedOptions,
  label: string): Promise<{ session: Session; exposed: ExposeResult }> {
  const augmented = model.clone();
  const graphs = new Map(allGraphs(augmented.graph).map((g) => [g.path, g.graph]));
  const mainInputs = new Set(augmented.graph.input.map((v) => v.name));
  const exposed = exposeValues(augmented, values
    .filter((t) => !(t.graphPath === 'main' && mainInputs.has(t.name)))
    .map((t) => ({ name: t.name, graph: graphs.get(t.graphPath) ?? augmented.graph })));
  const loadable = modelSource(augmented, label);
  try {
    return { session: await new OrtEngine().load(loadable.source, o.engine), exposed };
  } finally {
    loadable.dispose();
  }
}

/**
 * Measures the ranges of `targets` in `model` (not modified) on the calibration samples (`collected`
 * when an earlier step already read them: an iterable of samples can be read only once).
 */
export async function calibrate(model: Model, targets: CalibrationTarget[], o: ResolvedOptions,
  collected?: { samples: Feeds[]; generated: boolean }): Promise<CalibrationResult> {
  const { session, exposed } = await sessionExposing(model, targets, o, 'calibration');
  try {
    const { samples, generated } = collected ?? await collectSamples(o, inputMetadata(model));
    const stats = new Map<string, TensorStats>();
    const keepHistogram = o.method !== 'minmax';
    const statsFor = (name: string) => {
      let s = stats.get(name);
      if (!s) stats.set(name, (s = new TensorStats(o.bins, keepHistogram)));
      return s;
    };
    const notFloat = new Set<string>();
    const outputNames = [...new Set([...exposed.outputs.values()].flat())];
    const batches = makeBatches(samples, session.inputs, o.calibrationBatch);
    for (let b = 0; b < batches.length; b++) {
      const feeds = batches[b];
      let results: Awaited<ReturnType<typeof session.run>> = {};
      try {
        if (outputNames.length > 0) results = await session.run(feeds, outputNames);
      } catch (err) {
        if (!generated) throw err;
        const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0];
        throw new RangeError(`the model fails on generated calibration inputs (${reason}): pass real samples with --calibration DIR, `
          + 'or fix generated inputs with --value NAME=V / --shape NAME=D1,D2 / --dim NAME=N');
      }
      for (const [name, outputs] of exposed.outputs) {
        for (const output of outputs) {
          const tensor = results[output];
          if (tensor && tensor.data instanceof Float32Array) statsFor(name).add(tensor.data);
          else if (tensor) notFloat.add(name);
        }
      }
      for (const t of targets) {
        const fed = feeds[t.name];
        if (t.graphPath === 'main' && fed && fed.data instanceof Float32Array) statsFor(t.name).add(fed.data);
      }
      o.onProgress?.('calibrate', b + 1, batches.length);
    }
    const ranges = new Map<string, [number, number]>();
    const missing = new Map(exposed.unreachable);
    for (const t of targets) {
      const s = stats.get(t.name);
      if (s?.observed) ranges.set(t.name, rangeOf(s, o));
      else if (notFloat.has(t.name)) missing.set(t.name, 'not a float32 value');
      else if (!missing.has(t.name)) missing.set(t.name, 'the calibration samples never reach it');
    }
    return {
      ranges,
      missing,
      samples: samples.slice(0, SAMPLES_KEPT),
      generated,
      summary: { method: o.method, samples: samples.length, generated, tensors: ranges.size },
    };
  } finally {
    await session.dispose();
  }
}
