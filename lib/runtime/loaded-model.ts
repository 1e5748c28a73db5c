// One model version in memory: its instances (worker threads), its scheduler, warm-up.
import * as os from 'os';
import { performance } from 'perf_hooks';
import type { ValueMetadata } from '../engine/engine';
import type { EngineChoice } from '../engine/select';
import type { Feeds, HostTensor } from '../engine/tensor';
import { ModelConfigError, ModelConfig } from './config';
import { ModelLoadFailedError } from './errors';
import { WorkerInstance } from './instance';
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
}

/** Default memory estimate: one copy of the weights per instance (each worker owns a session). */
export function estimateBytes(spec: LoadSpec): number {
  return spec.config.memoryBytes ?? spec.fileBytes * spec.config.instances.count;
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

export class LoadedModel {
  readonly bytes: number;
  lastUsed = Date.now();
  /** Executions run for warm-up, per instance summed. */
  warmupRuns = 0;
  private readonly scheduler: Scheduler;
  private readonly requestSeconds: ReturnType<RuntimeMetrics['requestSeconds']['labels']>;
  private retired: Promise<void> | undefined;
  private readonly engineGauges: ReturnType<RuntimeMetrics['instanceEngines']['labels']>[];

  private constructor(
    readonly spec: LoadSpec,
    private readonly instances: WorkerInstance[],
    readonly inputs: readonly ValueMetadata[],
    readonly outputs: readonly ValueMetadata[],
    metrics: RuntimeMetrics,
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
      },
      metrics.observerFor(spec.name, spec.version),
    );
  }

  /** Starts every instance, checks the model against its config, warms every instance up. */
  static async load(spec: LoadSpec, metrics: RuntimeMetrics): Promise<LoadedModel> {
    const { config, name } = spec;
    const engine = { threads: config.threads ?? defaultThreads(config.instances.count) };
    const start = (choice: EngineChoice) => WorkerInstance.start({ file: spec.file, engine, device: config.instances.device, choice, model: { name, config } });
    let started: PromiseSettledResult<WorkerInstance>[];
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
    const instances = started.filter((s) => s.status === 'fulfilled').map((s) => (s as PromiseFulfilledResult<WorkerInstance>).value);
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
      const model = new LoadedModel(spec, instances, inputs, outputs, metrics);
      await model.warmUp();
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

  /** Usable: not retired and at least one instance alive. */
  get healthy(): boolean {
    return !this.retired && this.instances.some((i) => !i.failure);
  }

  get devices(): string[] {
    return this.instances.map((i) => i.device);
  }

  /** The engine of each instance, and why it runs it. */
  get engines(): { engine: 'ort' | 'native'; cause: string; reason: string }[] {
    return this.instances.map((i) => ({ ...i.engine }));
  }

  get notes(): string[] {
    return [...new Set(this.instances.map((i) => i.note).filter((n): n is string => n !== undefined))];
  }

  async infer(feeds: Feeds, options: SubmitOptions = {}): Promise<Record<string, HostTensor>> {
    if (profiling) mark('validate');
    const rows = validateRequest(feeds, options.outputs, this.inputs, this.outputs, this.spec.config.maxBatchSize);
    if (profiling) mark('validated');
    this.lastUsed = Date.now();
    const start = performance.now();
    try {
      return await this.scheduler.submit(feeds, rows, options);
    } finally {
      this.lastUsed = Date.now();
      this.requestSeconds.observe((performance.now() - start) / 1000);
    }
  }

  /** Takes no new requests, lets queued and running ones finish, then ends the instances. */
  retire(): Promise<void> {
    this.retired ??= (async () => {
      for (const gauge of this.engineGauges) gauge.dec();
      this.scheduler.close();
      await this.scheduler.drain();
      await Promise.all(this.instances.map((i) => i.dispose()));
    })();
    return this.retired;
  }
}
