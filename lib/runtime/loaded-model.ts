// One model version in memory: its instances, its scheduler, warm-up.
import * as os from 'os';
import { performance } from 'perf_hooks';
import type { ValueMetadata } from '../engine/engine';
import type { EngineChoice } from '../engine/select';
import type { Feeds, HostTensor } from '../engine/tensor';
import { Isolation, ModelConfigError, ModelConfig } from './config';
import { ModelLoadFailedError } from './errors';
import { paddingPlan } from './padding';
import { DEFAULT_MAX_REQUEST_MEMORY_BYTES, MemoryGuard, MemoryReport } from './memory-guard';
import { InstanceReport, instanceReport, ModelInstance, startInstance } from './model-instance';
import { ProcessInstance } from './process-instance';
import { RequestMemoryEstimator } from './request-memory';
import type { RestartPolicy } from './restart-budget';
import type { Clock } from './clock';
import type { RuntimeMetrics } from './metrics';
import { Scheduler, SubmitOptions } from './scheduler';
import { applyTensorSpecs, validateRequest } from './validate';
import { warmupFeeds } from './warmup';
import { mark, profiling } from './request-profile';

export interface LoadSpec {
  name: string;
  version: number;
  file: string;
  /** Bytes of the version folder on disk. */
  fileBytes: number;
  config: ModelConfig;
  /** The engine choice: the config's, else the runtime's default. */
  engine: EngineChoice;
  /** Where its instances run: the config's, else the runtime's default. */
  isolation: Isolation;
}

/** What the cache reserves before a load: config memory_bytes, else one copy of the weights per instance (each worker owns a session). */
export function estimateBytes(spec: LoadSpec): number {
  return spec.config.memoryBytes ?? spec.fileBytes * spec.config.instances.count;
}

/** An instance that runs outside this process reports its own resident memory. */
interface ReportsMemory {
  readonly residentBytes?: number;
}

/**
 * What a loaded version costs the cache: config memory_bytes when set; else what its instances
 * report, or else how much this process grew (RSS) over their load and warm-up — weights, the
 * engine arenas after a real run, the worker threads — and never less than one copy of the file.
 */
function residentBytes(spec: LoadSpec, instances: readonly ReportsMemory[], rssGrowth: number): number {
  if (spec.config.memoryBytes !== undefined) return spec.config.memoryBytes;
  const reported = instances.map((i) => i.residentBytes);
  const measured = reported.every((b) => b !== undefined) ? reported.reduce((a: number, b) => a + b!, 0) : rssGrowth;
  return Math.max(spec.fileBytes, Math.round(measured));
}

function defaultThreads(instances: number): number {
  return Math.max(1, Math.floor(os.availableParallelism() / instances));
}

function checkBatchDims(list: readonly ValueMetadata[], kind: string, name: string): void {
  for (const meta of list) {
    const first = meta.shape?.[0];
    if (meta.shape && (meta.shape.length === 0 || (typeof first === 'number' && first >= 0))) {
      throw new ModelConfigError(`model ${name}: max_batch_size > 0 needs a variable first dim on every ${kind}, ${meta.name} has shape [${meta.shape.join(', ')}]`);
    }
  }
}

/** Server-wide defaults a model's config.json may override. */
export interface ModelDefaults {
  /** Default per-request activation budget (default 1 GiB). */
  maxRequestMemoryBytes?: number;
  /** How often a dead instance process may be restarted (isolation 'process'; default DEFAULT_RESTART_POLICY). */
  restartPolicy?: RestartPolicy;
  /** Times restart backoffs and budgets (tests step it). */
  clock?: Clock;
}

export class LoadedModel {
  /** Resident memory the cache counts for this version (see residentBytes). */
  bytes: number;
  lastUsed = Date.now();
  /** Executions run for warm-up, per instance summed. */
  warmupRuns = 0;
  private readonly scheduler: Scheduler;
  private readonly requestSeconds: ReturnType<RuntimeMetrics['requestSeconds']['labels']>;
  private retired: Promise<void> | undefined;
  private readonly engineGauges: ReturnType<RuntimeMetrics['instanceEngines']['labels']>[];

  private constructor(
    readonly spec: LoadSpec,
    private readonly instances: ModelInstance[],
    readonly inputs: readonly ValueMetadata[],
    readonly outputs: readonly ValueMetadata[],
    private readonly metrics: RuntimeMetrics,
    private readonly memory: MemoryGuard,
  ) {
    this.bytes = estimateBytes(spec);
    this.requestSeconds = metrics.requestSeconds.labels(spec.name, String(spec.version));
    this.engineGauges = instances.map(({ engine }) => metrics.instanceEngines.labels(spec.name, String(spec.version), engine.engine, engine.cause));
    for (const gauge of this.engineGauges) gauge.inc();
    const { config } = spec;
    this.scheduler = new Scheduler(
      instances,
      {
        maxBatchSize: config.maxBatchSize,
        dynamicBatching: config.dynamicBatching,
        maxQueueSize: config.queue.maxSize,
        timeoutMs: config.queue.timeoutMs,
        defaultPriority: config.queue.defaultPriority,
        maxInflightPerInstance: config.instances.maxInflight,
        padding: config.dynamicBatching?.padding && paddingPlan(config.dynamicBatching.padding, inputs, outputs, spec.name),
      },
      metrics.observerFor(spec.name, spec.version),
    );
  }

  /** Starts every instance, checks the model against its config, warms every instance up. */
  static async load(spec: LoadSpec, metrics: RuntimeMetrics, defaults: ModelDefaults = {}): Promise<LoadedModel> {
    const { config, name } = spec;
    const engine = { threads: config.threads ?? defaultThreads(config.instances.count), memoryArena: config.memoryArena };
    const restarts = metrics.instanceRestarts.labels(name, String(spec.version));
    const failedGauge = metrics.instancesFailed.labels(name, String(spec.version));
    const processOptions = { onRestart: () => restarts.inc(), onFailed: () => failedGauge.inc(), restartPolicy: defaults.restartPolicy, clock: defaults.clock };
    const rssBefore = process.memoryUsage.rss();
    const start = (choice: EngineChoice) =>
      startInstance({ file: spec.file, engine, device: config.instances.device, choice, model: { name, config } }, spec.isolation, processOptions);
    let started: PromiseSettledResult<ModelInstance>[];
    if (spec.engine === 'auto' && config.instances.count > 1) {
      // One instance times the engines; the others run what it chose, so a model's instances agree.
      const [first] = await Promise.allSettled([start('auto')]);
      const chosen = first.status === 'fulfilled' ? first.value.engine.engine : 'ort';
      started = [first, ...(await Promise.allSettled(Array.from({ length: config.instances.count - 1 }, () => start(chosen))))];
      for (const s of started.slice(1)) {
        if (s.status === 'fulfilled' && first.status === 'fulfilled') s.value.engine = { ...first.value.engine, reason: `${first.value.engine.reason}, timed on the model's first instance` };
      }
    } else {
      started = await Promise.allSettled(Array.from({ length: config.instances.count }, () => start(spec.engine)));
    }
    const instances = started.filter((s) => s.status === 'fulfilled').map((s) => (s as PromiseFulfilledResult<ModelInstance>).value);
    const failed = started.find((s) => s.status === 'rejected') as PromiseRejectedResult | undefined;
    try {
      if (failed) throw failed.reason;
      const first = instances[0];
      const inputs = applyTensorSpecs(first.inputs, config.inputs, 'input', name);
      const outputs = applyTensorSpecs(first.outputs, config.outputs, 'output', name);
      if (config.maxBatchSize > 0) {
        checkBatchDims(inputs, 'input', name);
        checkBatchDims(outputs, 'output', name);
      }
      const maxRequestBytes = config.maxRequestMemoryBytes ?? defaults.maxRequestMemoryBytes ?? DEFAULT_MAX_REQUEST_MEMORY_BYTES;
      const limits = { maxRequestBytes, maxTotalBytes: config.maxBatchMemoryBytes ?? maxRequestBytes * config.instances.count };
      const memory = new MemoryGuard(RequestMemoryEstimator.fromFile(spec.file), limits, name);
      const model = new LoadedModel(spec, instances, inputs, outputs, metrics, memory);
      await model.warmUp();
      model.bytes = residentBytes(spec, instances as readonly ReportsMemory[], process.memoryUsage.rss() - rssBefore);
      return model;
    } catch (err) {
      await Promise.all(instances.map((i) => i.dispose()));
      if (err instanceof ModelLoadFailedError) throw err;
      throw new ModelLoadFailedError(err instanceof ModelConfigError ? err.message : `model ${name} version ${spec.version}: ${(err as Error).message}`);
    }
  }

  private async warmUp(): Promise<void> {
    const feeds = warmupFeeds(this.inputs, this.spec.config, this.spec.name);
    await Promise.all(
      this.instances.map(async (instance) => {
        for (const f of feeds) {
          await instance.run(f, undefined, false);
          this.warmupRuns++;
        }
      }),
    );
  }

  get name(): string {
    return this.spec.name;
  }

  get version(): number {
    return this.spec.version;
  }

  get pinned(): boolean {
    return this.spec.config.pinned;
  }

  /** Queued or executing work: a busy model is never evicted. */
  get busy(): boolean {
    return !this.scheduler.idle;
  }

  /** Requests waiting in the queue. */
  get queued(): number {
    return this.scheduler.queued;
  }

  /**
   * Stops dispatching this version's requests until the returned function is called; they still
   * queue, time out and cancel (maintenance, and tests that need a request to stay queued).
   */
  pauseDispatch(): () => void {
    return this.scheduler.pause();
  }

  /** Usable: not retired and at least one instance alive. */
  get healthy(): boolean {
    return !this.retired && this.instances.some((i) => !i.failure);
  }

  /** Why the model cannot serve when every instance spent its restart budget (a crash loop); undefined otherwise. */
  get crashLoop(): string | undefined {
    if (this.retired || this.instances.length === 0 || !this.instances.every((i) => i instanceof ProcessInstance && i.crashLooping)) return undefined;
    return this.instances[0].failure;
  }

  get devices(): string[] {
    return this.instances.map((i) => i.device);
  }

  get notes(): string[] {
    return [...new Set(this.instances.map((i) => i.note).filter((n): n is string => n !== undefined))];
  }

  /** The activation memory limits and what the admitted requests hold now. */
  get memoryReport(): MemoryReport {
    return this.memory.report();
  }

  /** Where each instance runs (its pid), how often it was restarted, its engine and why. */
  get instanceReports(): InstanceReport[] {
    return this.instances.map(instanceReport);
  }

  async infer(feeds: Feeds, options: SubmitOptions = {}): Promise<Record<string, HostTensor>> {
    if (profiling) mark('validate');
    const rows = validateRequest(feeds, options.outputs, this.inputs, this.outputs, this.spec.config.maxBatchSize);
    const release = this.memory.admit(feeds);
    if (profiling) mark('validated');
    this.lastUsed = Date.now();
    const start = performance.now();
    try {
      return await this.scheduler.submit(feeds, rows, options);
    } finally {
      release();
      this.lastUsed = Date.now();
      this.requestSeconds.observe((performance.now() - start) / 1000);
    }
  }

  /** Takes no new requests, lets queued and running ones finish, then ends the instances. */
  retire(): Promise<void> {
    this.retired ??= (async () => {
      for (const gauge of this.engineGauges) gauge.dec();
      const failed = this.instances.filter((i) => i instanceof ProcessInstance && i.crashLooping).length;
      if (failed > 0) this.metrics.instancesFailed.dec({ model: this.spec.name, version: String(this.spec.version) }, failed);
      this.scheduler.close();
      await this.scheduler.drain();
      await Promise.all(this.instances.map((i) => i.dispose()));
    })();
    return this.retired;
  }
}
