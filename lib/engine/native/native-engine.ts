// NativeEngine: runs models on onnxforge's own kernels. A model is lowered once per input
// shape signature into a plan the addon runs in one call; linear layers are packed once per
// model (dense, sparse, int8 or sparse int8 by measured sparsity) and shared by its sessions.
import type { EnginePlan, EngineConstantData } from '../../../binding';
import { loadModel, parseModelProto } from '../../onnx/load';
import { Model } from '../../onnx/model';
import { elementCount } from '../../onnx/tensor';
import { native } from '../../native';
import type { Engine, EngineOptions, Session, ValueMetadata } from '../engine';
import type { Feeds, HostTensor, TensorType } from '../tensor';
import { LoweringError, NativeEngineUnsupportedError } from './errors';
import { buildPlan, type BuiltPlan, type TensorSpec } from './plan-builder';
import { prepareModel } from './prepare';
import { acquireShared, releaseShared, type SharedModel } from './shared-weights';
import { packWeights, type KernelChoiceOptions, type LinearChoice } from './weights';

export interface NativeEngineOptions extends EngineOptions, KernelChoiceOptions {
  /** Plans kept per session, one per input shape signature (least recently used dropped first; default 16). */
  planCacheSize?: number;
}

/** What the engine did with the model: kernel per layer, memory, plans. */
export interface NativeSessionReport {
  layers: LinearChoice[];
  /** Bytes of packed weights (shared by the model's sessions). */
  packedWeightBytes: number;
  /** Bytes of model constants the steps read (embeddings, norms, biases). */
  constantBytes: number;
  /** Arena bytes of the largest plan built so far (one run's activations). */
  peakArenaBytes: number;
  plans: number;
  /** Step kinds of the most recently built plan. */
  steps: Record<string, number>;
}

function metadata(values: { name: string; dtype: string | undefined; dims: readonly (number | string)[] | undefined }[]): ValueMetadata[] {
  return values.map((v) => ({
    name: v.name, type: (v.dtype ?? 'unknown') as TensorType,
    shape: v.dims ? v.dims.map((d) => (typeof d === 'number' && d < 0 ? null : d)) : null,
  }));
}

/** Runs up to this many multiply-adds (~0.1 ms on one core) need no worker thread. */
export const SYNC_RUN_MACS = 4_000_000;

interface CachedPlan {
  built: BuiltPlan;
  plan: EnginePlan;
}

export class NativeSession implements Session {
  readonly inputs: readonly ValueMetadata[];
  readonly outputs: readonly ValueMetadata[];
  private readonly plans = new Map<string, CachedPlan>();
  private disposed = false;
  private lastSteps: Record<string, number> = {};
  private peakArena = 0;

  constructor(private readonly shared: SharedModel, private readonly options: NativeEngineOptions) {
    const { graph } = shared.prepared;
    this.inputs = metadata(graph.inputs);
    this.outputs = metadata(graph.outputs);
  }

  get report(): NativeSessionReport {
    return {
      layers: this.shared.choices,
      packedWeightBytes: this.shared.weights.bytes,
      constantBytes: this.shared.prepared.constants.reduce((s, c) => s + c.tensor.data.byteLength, 0),
      peakArenaBytes: this.peakArena,
      plans: this.plans.size,
      steps: this.lastSteps,
    };
  }

  /** Input specs of `feeds`, checked against the model's inputs. */
  private inputSpecs(feeds: Feeds): TensorSpec[] {
    const { graph } = this.shared.prepared;
    for (const name of Object.keys(feeds)) {
      if (!graph.inputs.some((i) => i.name === name)) {
        throw new RangeError(`"${name}" is not an input of the model (inputs: ${graph.inputs.map((i) => i.name).join(', ')})`);
      }
    }
    return graph.inputs.map((input) => {
      const t = feeds[input.name];
      if (!t) throw new RangeError(`input "${input.name}" is missing`);
      if (t.type !== input.dtype) throw new TypeError(`input "${input.name}" must be ${input.dtype}, got ${t.type}`);
      const dims = [...t.dims];
      if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new RangeError(`input "${input.name}" has invalid dims [${dims}]`);
      if (input.dims) {
        if (input.dims.length !== dims.length) throw new RangeError(`input "${input.name}" must have rank ${input.dims.length}, got dims [${dims}]`);
        input.dims.forEach((d, i) => {
          if (typeof d === 'number' && d >= 0 && d !== dims[i]) {
            throw new RangeError(`input "${input.name}" dimension ${i} must be ${d}, got ${dims[i]}`);
          }
        });
      }
      if (t.data.length !== elementCount(dims)) {
        throw new RangeError(`input "${input.name}" has ${t.data.length} elements, its dims [${dims}] need ${elementCount(dims)}`);
      }
      return { name: input.name, dtype: input.dtype!, dims };
    });
  }

  /** The plan for these inputs' shapes, built on first use. */
  planFor(specs: TensorSpec[]): CachedPlan {
    if (this.disposed) throw new Error('the session has been disposed');
    const key = specs.map((s) => s.dims.join('x')).join('|');
    let cached = this.plans.get(key);
    if (cached) {
      this.plans.delete(key);
      this.plans.set(key, cached);
      return cached;
    }
    const { prepared } = this.shared;
    const built = buildPlan(prepared.graph, prepared.constantIndex, specs);
    cached = { built, plan: native().enginePlan(this.shared.weights, built.spec) };
    this.plans.set(key, cached);
    this.lastSteps = built.stepCounts;
    this.peakArena = Math.max(this.peakArena, built.arenaBytes);
    const limit = this.options.planCacheSize ?? 16;
    for (const [oldKey, old] of this.plans) {
      if (this.plans.size <= limit) break;
      old.plan.dispose();
      this.plans.delete(oldKey);
    }
    return cached;
  }

  private prepareRun(feeds: Feeds): { plan: CachedPlan; inputs: EngineConstantData[] } {
    const specs = this.inputSpecs(feeds);
    const plan = this.planFor(specs);
    return { plan, inputs: specs.map((s) => feeds[s.name].data as EngineConstantData) };
  }

  private collect(outputs: EngineConstantData[], plan: CachedPlan, names?: readonly string[]): Record<string, HostTensor> {
    const out: Record<string, HostTensor> = {};
    plan.built.outputs.forEach((o, i) => {
      if (!names || names.includes(o.name)) out[o.name] = { type: o.dtype as TensorType, dims: o.dims, data: outputs[i] as HostTensor['data'] };
    });
    for (const name of names ?? []) if (!out[name]) throw new RangeError(`"${name}" is not an output of the model`);
    return out;
  }

  async run(feeds: Feeds, outputNames?: readonly string[]): Promise<Record<string, HostTensor>> {
    const { plan, inputs } = this.prepareRun(feeds);
    const threads = this.options.threads ?? 0;
    // A run shorter than the hop to a worker thread and back runs here (well under a millisecond).
    if (plan.built.macs <= SYNC_RUN_MACS) return this.collect(plan.plan.run(inputs, threads), plan, outputNames);
    return this.collect(await plan.plan.runAsync(inputs, threads), plan, outputNames);
  }

  /** The same as run, on the calling thread (no promise, no thread hop: for the smallest models). */
  runSync(feeds: Feeds, outputNames?: readonly string[]): Record<string, HostTensor> {
    const { plan, inputs } = this.prepareRun(feeds);
    return this.collect(plan.plan.run(inputs, this.options.threads ?? 0), plan, outputNames);
  }

  /** One run on the calling thread with each step timed: where a model's time goes. */
  profile(feeds: Feeds): { op: string; ms: number; detail: string }[] {
    const { plan, inputs } = this.prepareRun(feeds);
    const { stepMs } = plan.plan.profile(inputs, this.options.threads ?? 0);
    return plan.built.spec.steps.map((s, i) => ({ op: s.op, ms: stepMs[i], detail: Array.from(s.ints.slice(0, 6)).join(',') }));
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const { plan } of this.plans.values()) plan.dispose();
    this.plans.clear();
    releaseShared(this.shared);
  }
}

/**
 * Input signatures to try a model on at load, to find what cannot run before any request: symbolic
 * and unknown dims at 1, and, for models whose windows need room (conv nets), at 224 past the batch axis.
 */
function probeSpecs(shared: SharedModel): TensorSpec[][] {
  const at = (size: number) => shared.prepared.graph.inputs.map((i) => ({
    name: i.name, dtype: i.dtype!, dims: (i.dims ?? []).map((d, axis) => (typeof d === 'number' && d >= 0 ? d : axis === 0 ? 1 : size)),
  }));
  return [at(1), at(224)];
}

export class NativeEngine implements Engine {
  readonly name = 'native';

  async load(model: string | Uint8Array | Model, options: NativeEngineOptions = {}): Promise<NativeSession> {
    return this.loadSync(model, options);
  }

  loadSync(model: string | Uint8Array | Model, options: NativeEngineOptions = {}): NativeSession {
    if (options.device === 'cuda') throw new RangeError("the native engine runs on the CPU; use device 'cpu' or 'auto'");
    const choiceKey = JSON.stringify({ k: options.linearKinds ?? null, t: options.sparseThreshold ?? null });
    const create = (): SharedModel => {
      const parsed = model instanceof Model ? model
        : typeof model === 'string' ? loadModel(model, { readFile: (file) => native().readFileLarge(file) })
        : new Model(parseModelProto(model));
      const prepared = prepareModel(parsed);
      const { weights, choices } = packWeights(native(), prepared, options);
      // Packed now: the plans need only the layers' sizes, and the model's buffer may go.
      for (const layer of prepared.layers) {
        layer.weights = layer.weights instanceof Int8Array ? new Int8Array(0) : new Float32Array(0);
        layer.scales = undefined;
        layer.zeroPoints = undefined;
      }
      return { prepared, weights, choices, sessions: 0 };
    };
    const shared = model instanceof Model ? Object.assign(create(), { sessions: 1 }) : acquireShared(model, choiceKey, create);
    const session = new NativeSession(shared, options);
    let failure: unknown;
    for (const specs of probeSpecs(shared)) {
      try {
        session.planFor(specs);
        return session;
      } catch (err) {
        failure = failure ?? err;
        if (!(err instanceof LoweringError)) break;
      }
    }
    void session.dispose();
    if (failure instanceof LoweringError) {
      throw new NativeEngineUnsupportedError([{ opType: failure.opType, domain: '', node: failure.node, reason: failure.message }]);
    }
    throw failure;
  }
}
