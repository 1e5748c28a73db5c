// Activation memory of one request, estimated from the model's graph before it runs: shapes are
// propagated with the request's concrete input dims (lib/inspect/shapes), and the estimate is the
// request's inputs plus EVERY intermediate and output tensor of the main graph, as if all were alive
// at once. That is an upper bound: engines reuse buffers of dead values (onnxruntime's memory
// pattern), so the real peak is lower; it errs on the side of refusing, never of running out.
import { knownShapes } from '../inspect/shapes';
import { dtypeInfo } from '../onnx/dtype';
import { loadModel } from '../onnx/load';
import type { Model } from '../onnx/model';
import type { Feeds } from '../engine/tensor';

/** Initializers above this many bytes lose their data after loading: only their dims are needed. */
const KEEP_INITIALIZER_BYTES = 64 * 1024;
const CACHED_SHAPES = 1024;

export interface MemoryEstimate {
  /** Upper bound in bytes: inputs + every intermediate and output tensor at once. */
  bytes: number;
  /** Values whose shape propagation could not tell; each is counted as large as the largest known one. */
  unknownValues: number;
}

function elementBytes(model: Model, name: string): number {
  const dtype = model.valueInfo(name)?.dtype;
  if (!dtype) return 4;
  try {
    return Math.max(1, dtypeInfo(dtype).bits / 8);
  } catch {
    return 4;
  }
}

export class RequestMemoryEstimator {
  private readonly cache = new Map<string, MemoryEstimate>();
  /** Main-graph node outputs (Constant nodes excluded: they are weights). */
  private readonly activations: { name: string; bytesPerElement: number }[] = [];
  private readonly symbolicInputs: { name: string; dims: (number | string)[] }[];

  private constructor(private readonly model: Model) {
    for (const { node, graph } of model.nodes()) {
      if (graph !== model.graph || node.opType === 'Constant') continue;
      for (const name of node.output) if (name) this.activations.push({ name, bytesPerElement: elementBytes(model, name) });
    }
    this.symbolicInputs = model.inputs.map((vi) => ({ name: vi.name, dims: vi.dims ?? [] }));
  }

  /** Reads the model's graph; weights above 64 KiB are dropped at once (only their dims are kept). */
  static fromFile(file: string): RequestMemoryEstimator {
    const model = loadModel(file, { validate: false });
    for (const t of model.graph.initializer) {
      if (t.rawData.length > KEEP_INITIALIZER_BYTES) t.rawData = new Uint8Array(0);
      if (t.floatData.length * 4 > KEEP_INITIALIZER_BYTES) t.floatData = [];
    }
    return new RequestMemoryEstimator(model);
  }

  static fromModel(model: Model): RequestMemoryEstimator {
    return new RequestMemoryEstimator(model);
  }

  /** The estimate for these feeds (only their dims and dtypes matter); cached per distinct shape. */
  estimate(feeds: Feeds): MemoryEstimate {
    const key = Object.keys(feeds).sort().map((n) => `${n}:${feeds[n].dims.join('x')}`).join('|');
    const cached = this.cache.get(key);
    if (cached) return cached;
    if (this.cache.size >= CACHED_SHAPES) this.cache.clear();
    const estimate = this.compute(feeds);
    this.cache.set(key, estimate);
    return estimate;
  }

  private compute(feeds: Feeds): MemoryEstimate {
    const inputShapes: Record<string, readonly number[]> = {};
    const symbols: Record<string, number> = {};
    let inputBytes = 0;
    for (const [name, tensor] of Object.entries(feeds)) {
      inputShapes[name] = tensor.dims;
      inputBytes += byteLengthOf(tensor);
    }
    // A symbolic dim ("batch", "seq") named by an input takes the request's size for value_info shapes too.
    for (const { name, dims } of this.symbolicInputs) {
      const given = inputShapes[name];
      if (!given) continue;
      dims.forEach((d, i) => {
        if (typeof d === 'string' && given[i] !== undefined) symbols[d] = given[i];
      });
    }
    const shapes = knownShapes(this.model, symbols, inputShapes);
    let known = 0;
    let largest = 0;
    let unknownValues = 0;
    for (const { name, bytesPerElement } of this.activations) {
      const dims = shapes.get(name);
      if (!dims) {
        unknownValues++;
        continue;
      }
      const bytes = dims.reduce((a, b) => a * b, 1) * bytesPerElement;
      known += bytes;
      largest = Math.max(largest, bytes);
    }
    // Unknown values are counted as large as the largest known value (or the inputs when nothing is known).
    const stand = Math.max(largest, inputBytes);
    return { bytes: inputBytes + known + unknownValues * stand, unknownValues };
  }
}

function byteLengthOf(tensor: Feeds[string]): number {
  const data = tensor.data;
  if (Array.isArray(data)) return data.reduce((sum, s) => sum + s.length, 0);
  return data.byteLength;
}
