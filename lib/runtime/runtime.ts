// ModelRuntime: the in-process deployment runtime. Serves the models of a repository:
// loads them (eagerly or on first use) under a memory budget, batches and schedules
// requests onto instances (worker threads, the server's own thread, or child processes),
// and reports metrics. The HTTP server is a thin layer over this class; a Node service can
// use it directly.
import * as os from 'os';
import { performance } from 'perf_hooks';
import type { ValueMetadata } from '../engine/engine';
import type { EngineChoice } from '../engine/select';
import type { Feeds, HostTensor } from '../engine/tensor';
import { ModelCache } from './cache';
import type { Isolation } from './config';
import { Clock, systemClock } from './clock';
import type { RestartPolicy } from './restart-budget';
import {
  errorCode,
  ModelLoadFailedError,
  ModelNotFoundError,
  ModelUnavailableError,
  InstanceFailedError,
  RuntimeError,
  ShuttingDownError,
} from './errors';
import { estimateBytes, LoadedModel, LoadSpec } from './loaded-model';
import type { MemoryReport } from './memory-guard';
import { RuntimeMetrics } from './metrics';
import type { InstanceReport } from './model-instance';
import { readRepositoryModel, RepositoryModel, scanRepository } from './repository';
import type { SubmitOptions } from './scheduler';

export interface RuntimeOptions {
  /** The model repository folder. */
  repository: string;
  /** Memory budget of the model cache in bytes; default: half the machine's memory. */
  memoryBudgetBytes?: number;
  /** Unload models unused this long (ms); 0 keeps them. A model's idle_unload_ms overrides it. Default 0. */
  idleUnloadMs?: number;
  /** Told about loads, unloads, evictions and failures. */
  log?: (line: string) => void;
  /** Per-request activation memory budget of models whose config sets none (default 1 GiB). */
  maxRequestMemoryBytes?: number;
  /** The engine of models whose config.json names none (default 'auto'). */
  engine?: EngineChoice;
  /** Where the instances of models whose config.json names none run (default 'thread'). */
  isolation?: Isolation;
  /** How often a dead instance process may be restarted before the model is marked failed (default DEFAULT_RESTART_POLICY). */
  restartPolicy?: RestartPolicy;
  /** Times instance restarts' backoff and budget (tests step it; default the system clock). */
  clock?: Clock;
}

export interface InferOptions extends SubmitOptions {
  /** Default: the latest version served. */
  version?: number;
}

export interface InferResult {
  model: string;
  version: number;
  outputs: Record<string, HostTensor>;
}

export type ModelState = 'READY' | 'LOADING' | 'UNAVAILABLE' | 'UNLOADING';

export interface IndexEntry {
  name: string;
  version?: string;
  state: ModelState;
  reason?: string;
}

export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: ValueMetadata[];
  outputs: ValueMetadata[];
  /** Activation memory limits of the version (onnxforge extension). */
  memory?: MemoryReport;
  /** Each instance: where it runs, on which engine and why (onnxforge extension). */
  instances?: InstanceReport[];
  /** The engines of the instances and why, summed up (KServe metadata parameters). */
  parameters?: { engine: string; engine_reason: string };
}

/** One served version: what is loaded now, a load in progress, and why it is not available. */
interface VersionSlot {
  spec: LoadSpec;
  loaded?: LoadedModel;
  loading?: Promise<LoadedModel>;
  /** Set when a load failed; cleared by an explicit load. */
  failure?: string;
  /** Why it is not loaded (evicted, idle) when there is no failure. */
  note?: string;
  /** Resident bytes measured at its last load: the next load reserves this instead of the estimate. */
  measuredBytes?: number;
}

interface ModelEntry {
  repo: RepositoryModel;
  /** Version number -> slot, for the versions the policy serves. */
  slots: Map<number, VersionSlot>;
  /** An operator unloaded it: requests fail until it is loaded again. */
  unloaded: boolean;
  /** Set while an explicit load or unload is in progress. */
  transition?: 'LOADING' | 'UNLOADING';
}

function slotsFor(repo: RepositoryModel, defaults: { engine: EngineChoice; isolation: Isolation }): Map<number, VersionSlot> {
  const slots = new Map<number, VersionSlot>();
  if (!repo.config) return slots;
  for (const v of repo.versions) {
    slots.set(v.version, { spec: { name: repo.name, version: v.version, file: v.file, fileBytes: v.bytes, config: repo.config, engine: repo.config.engine ?? defaults.engine, isolation: repo.config.isolation ?? defaults.isolation } });
  }
  return slots;
}

export class ModelRuntime {
  readonly metrics = new RuntimeMetrics();
  readonly repository: string;
  private readonly cache: ModelCache<LoadedModel>;
  private readonly models = new Map<string, ModelEntry>();
  private readonly idleUnloadMs: number;
  private readonly maxRequestMemoryBytes: number | undefined;
  private readonly restarts: { restartPolicy?: RestartPolicy; clock?: Clock };
  private readonly defaults: { engine: EngineChoice; isolation: Isolation };
  private readonly log: (line: string) => void;
  private readonly retiring = new Set<Promise<void>>();
  private readonly loadsInProgress = new Set<Promise<unknown>>();
  private idleTimer: NodeJS.Timeout | undefined;
  private started: Promise<void> | undefined;
  private isReady = false;
  private closing: Promise<void> | undefined;

  constructor(options: RuntimeOptions) {
    this.repository = options.repository;
    this.cache = new ModelCache<LoadedModel>(options.memoryBudgetBytes ?? Math.floor(os.totalmem() / 2));
    this.idleUnloadMs = options.idleUnloadMs ?? 0;
    this.maxRequestMemoryBytes = options.maxRequestMemoryBytes;
    this.restarts = { restartPolicy: options.restartPolicy, clock: options.clock };
    this.defaults = { engine: options.engine ?? 'auto', isolation: options.isolation ?? 'thread' };
    this.log = options.log ?? (() => {});
    this.metrics.cacheBudgetBytes.set(this.cache.budgetBytes);
  }

  /** Scans the repository and loads and warms up every eager model; resolves when the runtime is ready. */
  start(): Promise<void> {
    this.started ??= (async () => {
      for (const repo of scanRepository(this.repository)) {
        this.models.set(repo.name, { repo, slots: slotsFor(repo, this.defaults), unloaded: false });
        if (repo.error) this.log(`model ${repo.name} unavailable: ${repo.error}`);
      }
      for (const entry of this.models.values()) {
        if (entry.repo.config?.preload !== 'eager') continue;
        for (const slot of entry.slots.values()) {
          if (this.closing) return;
          await this.ensureLoaded(entry, slot).catch(() => undefined);
        }
      }
      this.startIdleTimer();
      this.isReady = !this.closing;
    })();
    return this.started;
  }

  /** Eager models are loaded and warmed up, and the runtime is not shutting down. */
  get ready(): boolean {
    return this.isReady && !this.closing;
  }

  get memoryBudgetBytes(): number {
    return this.cache.budgetBytes;
  }

  /** Resident bytes of the loaded models as measured at their load (see LoadedModel.bytes), plus reservations of loads in progress. */
  get memoryUsedBytes(): number {
    return this.cache.usedBytes;
  }

  async infer(name: string, feeds: Feeds, options: InferOptions = {}): Promise<InferResult> {
    const entry = this.models.get(name);
    const labels = { model: name, version: String(options.version ?? '') };
    try {
      if (this.closing) throw new ShuttingDownError();
      if (!entry) throw new ModelNotFoundError(`unknown model "${name}"`);
      const slot = this.slotOf(entry, options.version);
      labels.version = String(slot.spec.version);
      let model = slot.loaded;
      let submit = options;
      if (model?.healthy) {
        this.metrics.countCacheHit(name);
      } else {
        this.metrics.cacheMisses.inc({ model: name });
        const arrived = systemClock.now();
        model = await this.ensureLoaded(entry, slot);
        // Another load may have evicted it before this request got to it (it was idle).
        for (let retry = 0; !model.healthy && retry < 3 && !this.closing; retry++) model = await this.ensureLoaded(entry, slot);
        // The request's timeout counts from its arrival, not from the end of the load it waited for.
        if (options.timeoutMs && options.timeoutMs > 0) {
          const deadline = Math.min(arrived + options.timeoutMs, options.deadline === undefined ? Infinity : +options.deadline);
          submit = { ...options, timeoutMs: 0, deadline };
        }
      }
      const outputs = await model.infer(feeds, submit);
      this.metrics.countRequest(name, labels.version, 'success');
      return { model: name, version: slot.spec.version, outputs };
    } catch (err) {
      this.metrics.requests.inc({ ...labels, outcome: outcomeOf(err) });
      throw err;
    }
  }

  /** The version a request without one gets: the latest served. */
  private slotOf(entry: ModelEntry, version: number | undefined): VersionSlot {
    const { repo } = entry;
    if (entry.unloaded) throw new ModelUnavailableError(`model "${repo.name}" is unloaded; load it through the repository API`);
    if (repo.error) throw new ModelUnavailableError(`model "${repo.name}" is unavailable: ${repo.error}`);
    const versions = [...entry.slots.keys()];
    const chosen = version ?? Math.max(...versions);
    const slot = entry.slots.get(chosen);
    if (!slot) throw new ModelNotFoundError(`model "${repo.name}" has no version ${chosen} (serving ${versions.join(', ')})`);
    if (slot.failure) throw new ModelUnavailableError(`model "${repo.name}" version ${chosen} failed to load: ${slot.failure}`);
    return slot;
  }

  private ensureLoaded(entry: ModelEntry, slot: VersionSlot): Promise<LoadedModel> {
    if (slot.loaded?.healthy) return Promise.resolve(slot.loaded);
    // A crash loop stays failed until an operator loads the model again: reloading it here would loop too.
    const crashLoop = slot.loaded?.crashLoop;
    if (crashLoop) return Promise.reject(new InstanceFailedError(`model "${entry.repo.name}" version ${slot.spec.version}: ${crashLoop}`));
    if (slot.loaded) {
      // Every instance died: replace it.
      this.retire(slot.loaded);
      slot.loaded = undefined;
    }
    slot.loading ??= this.loadVersion(slot.spec, slot.measuredBytes)
      .then((model) => {
        slot.measuredBytes = model.bytes;
        if (this.closing || entry.unloaded || this.models.get(entry.repo.name) !== entry) {
          this.retire(model);
          throw this.closing ? new ShuttingDownError() : new ModelUnavailableError(`model "${entry.repo.name}" was unloaded while loading`);
        }
        slot.loaded = model;
        slot.note = undefined;
        return model;
      })
      .catch((err: Error) => {
        if (err instanceof ModelLoadFailedError) slot.failure = err.message;
        throw err;
      })
      .finally(() => {
        slot.loading = undefined;
      });
    return slot.loading;
  }

  /** Loads one version into the cache, evicting least recently used models to make room. */
  private loadVersion(spec: LoadSpec, measuredBytes?: number): Promise<LoadedModel> {
    const load = this.loadVersionNow(spec, measuredBytes);
    const tracked = load.catch(() => undefined).finally(() => this.loadsInProgress.delete(tracked));
    this.loadsInProgress.add(tracked);
    return load;
  }

  private async loadVersionNow(spec: LoadSpec, measuredBytes?: number): Promise<LoadedModel> {
    const bytes = spec.config.memoryBytes ?? measuredBytes ?? estimateBytes(spec);
    const what = `model "${spec.name}" version ${spec.version}`;
    const victims = this.cache.reserve(bytes, what);
    for (const victim of victims) this.evict(victim, 'budget');
    this.updateCacheGauges();
    const start = performance.now();
    let model: LoadedModel | undefined;
    try {
      model = await LoadedModel.load(spec, this.metrics, { maxRequestMemoryBytes: this.maxRequestMemoryBytes, ...this.restarts });
      this.metrics.loads.inc({ model: spec.name, outcome: 'success' });
      this.metrics.loadSeconds.observe({ model: spec.name }, (performance.now() - start) / 1000);
      this.log(`loaded ${what} in ${(performance.now() - start).toFixed(0)} ms (${model.warmupRuns} warm-up runs)`);
      return model;
    } catch (err) {
      this.metrics.loads.inc({ model: spec.name, outcome: 'failure' });
      this.log(`failed to load ${what}: ${(err as Error).message}`);
      throw err;
    } finally {
      this.cache.settle(bytes, model);
      if (model) {
        this.metrics.residentBytes.set({ model: spec.name, version: String(spec.version) }, model.bytes);
        // It may take more than was reserved: make room now rather than run over the budget.
        for (const victim of this.cache.trim(model)) this.evict(victim, 'budget');
      }
      this.updateCacheGauges();
    }
  }

  private evict(model: LoadedModel, reason: 'budget' | 'idle'): void {
    const slot = this.models.get(model.name)?.slots.get(model.version);
    if (slot?.loaded === model) {
      slot.loaded = undefined;
      slot.note = reason === 'budget' ? 'evicted to make room; loads on the next request' : 'unloaded after idling; loads on the next request';
    }
    this.metrics.cacheEvictions.inc({ model: model.name, reason });
    this.log(`evicted model "${model.name}" version ${model.version} (${reason})`);
    this.retire(model);
  }

  private retire(model: LoadedModel): void {
    this.cache.delete(model);
    this.metrics.residentBytes.remove({ model: model.name, version: String(model.version) });
    this.updateCacheGauges();
    const done = model.retire().finally(() => this.retiring.delete(done));
    this.retiring.add(done);
  }

  private updateCacheGauges(): void {
    this.metrics.cacheBytes.set(this.cache.usedBytes);
    this.metrics.loadedModels.set(this.cache.size);
  }

  private startIdleTimer(): void {
    const limits = [this.idleUnloadMs, ...[...this.models.values()].map((e) => e.repo.config?.idleUnloadMs ?? 0)].filter((ms) => ms > 0);
    if (limits.length === 0 || this.idleTimer) return;
    const period = Math.max(50, Math.min(1000, Math.min(...limits) / 4));
    this.idleTimer = setInterval(() => this.unloadIdle(), period);
    this.idleTimer.unref();
  }

  private unloadIdle(): void {
    const idle = this.cache.takeIdle(Date.now(), (model) => model.spec.config.idleUnloadMs ?? this.idleUnloadMs);
    for (const model of idle) this.evict(model, 'idle');
  }

  /**
   * (Re)loads a model from disk: reads its config again and loads every served version.
   * When anything fails, the versions that were serving keep serving and this throws.
   */
  async load(name: string): Promise<void> {
    if (this.closing) throw new ShuttingDownError();
    const previous = this.models.get(name);
    if (previous?.transition) throw new ModelUnavailableError(`model "${name}" is already ${previous.transition.toLowerCase()}`);
    const repo = readRepositoryModel(this.repository, name);
    const keeps = previous && !previous.unloaded && [...previous.slots.values()].some((s) => s.loaded) ? '; the loaded version keeps serving' : '';
    if (repo.error) throw new ModelLoadFailedError(`failed to load model "${name}": ${repo.error}${keeps}`);
    const fresh: ModelEntry = { repo, slots: slotsFor(repo, this.defaults), unloaded: false };
    if (previous) previous.transition = 'LOADING';
    else this.models.set(name, { ...fresh, transition: 'LOADING' });
    const loaded: LoadedModel[] = [];
    try {
      for (const slot of fresh.slots.values()) {
        const model = await this.loadVersion(slot.spec);
        loaded.push(model);
        slot.loaded = model;
      }
    } catch (err) {
      for (const model of loaded) this.retire(model);
      if (previous) previous.transition = undefined;
      else this.models.set(name, { ...fresh, unloaded: true, transition: undefined });
      throw new ModelLoadFailedError(`failed to load model "${name}": ${(err as Error).message}${keeps}`);
    }
    if (this.closing) {
      for (const model of loaded) this.retire(model);
      throw new ShuttingDownError();
    }
    this.models.set(name, fresh);
    if (previous) for (const slot of previous.slots.values()) if (slot.loaded) this.retire(slot.loaded);
    this.startIdleTimer();
  }

  /** Unloads every version of a model once its queued requests are answered; requests fail until it is loaded again. */
  async unload(name: string): Promise<void> {
    const entry = this.models.get(name);
    if (!entry) throw new ModelNotFoundError(`unknown model "${name}"`);
    if (entry.transition) throw new ModelUnavailableError(`model "${name}" is ${entry.transition.toLowerCase()}`);
    entry.unloaded = true;
    entry.transition = 'UNLOADING';
    const pending = [...entry.slots.values()].map(async (slot) => {
      const model = slot.loaded ?? (await slot.loading?.catch(() => undefined));
      slot.loaded = undefined;
      if (model) {
        this.cache.delete(model);
        this.metrics.residentBytes.remove({ model: model.name, version: String(model.version) });
        await model.retire();
      }
    });
    await Promise.all(pending);
    this.updateCacheGauges();
    entry.transition = undefined;
    this.log(`unloaded model "${name}"`);
  }

  /** Every model and served version with its state, like the KServe repository index. */
  index(): IndexEntry[] {
    const list: IndexEntry[] = [];
    for (const [name, entry] of [...this.models.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      if (entry.repo.error) {
        list.push({ name, state: 'UNAVAILABLE', reason: entry.repo.error });
        continue;
      }
      for (const [version, slot] of entry.slots) {
        const item: IndexEntry = { name, version: String(version), state: 'UNAVAILABLE' };
        if (entry.transition) item.state = entry.transition;
        else if (entry.unloaded) item.reason = 'unloaded';
        else if (slot.loaded?.healthy) item.state = 'READY';
        else if (slot.loading) item.state = 'LOADING';
        else item.reason = slot.failure ?? slot.loaded?.crashLoop ?? slot.note ?? 'not loaded yet; loads on the first request';
        list.push(item);
      }
    }
    return list;
  }

  /** Throws for an unknown model or version; false when it exists but is not loaded. */
  isModelReady(name: string, version?: number): boolean {
    const entry = this.models.get(name);
    if (!entry) throw new ModelNotFoundError(`unknown model "${name}"`);
    if (entry.unloaded || entry.repo.error) return false;
    const chosen = version ?? Math.max(...entry.slots.keys());
    const slot = entry.slots.get(chosen);
    if (!slot) throw new ModelNotFoundError(`model "${name}" has no version ${chosen}`);
    return slot.loaded?.healthy === true;
  }

  /** Inputs and outputs of a model version; loads it when needed (a lazy model's first use). */
  async metadata(name: string, version?: number): Promise<ModelMetadata> {
    if (this.closing) throw new ShuttingDownError();
    const entry = this.models.get(name);
    if (!entry) throw new ModelNotFoundError(`unknown model "${name}"`);
    const slot = this.slotOf(entry, version);
    // A crash-looping version still describes itself: its instances say why they failed.
    const model = slot.loaded?.healthy || slot.loaded?.crashLoop ? slot.loaded : await this.ensureLoaded(entry, slot);
    const instances = model.instanceReports;
    return {
      name,
      versions: [...entry.slots.keys()].map(String),
      platform: 'onnxruntime_onnx',
      inputs: [...model.inputs],
      outputs: [...model.outputs],
      memory: model.memoryReport,
      instances,
      parameters: engineParameters(instances),
    };
  }

  /** The loaded model version, for inspection (warm-up runs, devices); undefined when not loaded. */
  loadedModel(name: string, version?: number): LoadedModel | undefined {
    const entry = this.models.get(name);
    if (!entry || entry.slots.size === 0) return undefined;
    return entry.slots.get(version ?? Math.max(...entry.slots.keys()))?.loaded;
  }

  /** Stops taking requests, lets queued and running ones finish, and ends every instance. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.idleTimer) clearInterval(this.idleTimer);
      await this.started?.catch(() => undefined);
      for (const entry of this.models.values()) {
        for (const slot of entry.slots.values()) {
          if (slot.loaded) {
            this.retire(slot.loaded);
            slot.loaded = undefined;
          }
        }
      }
      while (this.loadsInProgress.size) await Promise.all([...this.loadsInProgress]);
      // Loads that finished during shutdown retire themselves (ensureLoaded, load).
      await new Promise((resolve) => setImmediate(resolve));
      while (this.retiring.size) await Promise.all([...this.retiring]);
    })();
    return this.closing;
  }
}

function engineParameters(instances: readonly InstanceReport[]): ModelMetadata['parameters'] {
  const engines = [...new Set(instances.map((i) => i.engine))];
  const reasons = [...new Set(instances.map((i) => i.reason))];
  return { engine: engines.join(','), engine_reason: reasons.join('; ') };
}

function outcomeOf(err: unknown): string {
  if (!(err instanceof RuntimeError)) return 'error';
  switch (err.status) {
    case 400: return err.name === 'InvalidRequestError' ? 'invalid' : 'unavailable';
    case 404: return 'not_found';
    case 499: return 'cancelled';
    case 503: return err.retryAfterSeconds !== undefined ? 'overloaded' : 'unavailable';
    case 504: return errorCode(err) === 'deadline_exceeded' ? 'deadline_exceeded' : 'timeout';
    default: return 'error';
  }
}
