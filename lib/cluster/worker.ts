// ClusterWorker: a long-running process's worth of ModelRuntime serving jobs from the cluster's
// queues, one BullMQ worker per model it serves. Registered (with its models' metadata) while it
// lives; on close it finishes its jobs for up to drainTimeoutMs and hands the rest back.
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import Redis from 'ioredis';
import * as os from 'os';
import { performance } from 'perf_hooks';
import { ModelRuntime } from '../runtime/runtime';
import { InvalidRequestError } from '../runtime/errors';
import type { ClusterOptions } from './client';
import { connectionOptions, waitForRedis, type RedisConnectionOptions } from './connection';
import { executeJob } from './execute-job';
import { failureReason } from './failure';
import { parseJobData, type JobKind, type JobResult } from './jobs';
import { checkModelName, checkPrefix, checkWorkerName, ClusterConfigError, clusterKeys, DEFAULT_PREFIX, inferQueueName } from './names';
import { DEFAULT_PAYLOAD_LIMITS, payloadRef, readPayload, storePayload, type PayloadLimits } from './payload';
import { Registration, type ServedModel, type WorkerInfo } from './registry';
import { decodeItems, encodeItems } from './wire';

export interface ClusterWorkerOptions extends ClusterOptions {
  /** The model repository folder (the layout `onnxforge serve` reads). */
  repository: string;
  /** Models to serve; default every model of the repository that loads. */
  models?: string[];
  /** Jobs taken at once per model (default 8); concurrent jobs share the runtime's batches. */
  concurrency?: number;
  /** Unique in the cluster (default host-pid). */
  name?: string;
  /** A job's lock lasts this long unless renewed (default 30000 ms); renewal runs on the event loop, which inference never blocks. */
  lockDurationMs?: number;
  /** How often this worker looks for jobs whose worker died (default 30000 ms). */
  stalledIntervalMs?: number;
  /** Times a job may be recovered from a dead worker before it fails (default 1). */
  maxStalledCount?: number;
  /** On close, how long jobs in progress may take before they are handed back to the queue (default 30000 ms). */
  drainTimeoutMs?: number;
  /** Registration renewal period (default 2000 ms); a worker unheard of for 3 periods is gone. */
  heartbeatMs?: number;
  memoryBudgetBytes?: number;
  log?: (line: string) => void;
}

/** The host name and process id, reduced to the characters a worker name allows. */
export function defaultWorkerName(): string {
  return `${os.hostname()}-${process.pid}`.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 128) || `worker-${process.pid}`;
}

const HANDED_BACK = Symbol('handed back');

export class ClusterWorker {
  readonly name: string;
  readonly prefix: string;
  readonly runtime: ModelRuntime;
  private readonly options: ClusterWorkerOptions;
  private readonly connection: RedisConnectionOptions;
  private readonly limits: PayloadLimits;
  private readonly redis: Redis;
  private readonly registration: Registration;
  /** One BullMQ worker per served model, by model name. */
  private readonly workers = new Map<string, Worker>();
  private readonly instance = `${process.pid}-${Math.random().toString(36).slice(2)}`;
  private served: ServedModel[] = [];
  private heartbeat: NodeJS.Timeout | undefined;
  private handBack!: () => void;
  private readonly handedBack = new Promise<typeof HANDED_BACK>((resolve) => (this.handBack = () => resolve(HANDED_BACK)));
  private state: WorkerInfo['state'] = 'serving';
  private readonly startedAt = Date.now();
  private active = 0;
  private completed = 0;
  private failed = 0;
  private started: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: ClusterWorkerOptions) {
    this.options = options;
    this.name = checkWorkerName(options.name ?? defaultWorkerName());
    this.prefix = checkPrefix(options.prefix ?? DEFAULT_PREFIX);
    options.models?.forEach((m) => checkModelName(m));
    this.connection = connectionOptions(options.redis, `onnxforge-worker-${this.name}`);
    this.limits = { ...DEFAULT_PAYLOAD_LIMITS, ...options.payloads };
    this.runtime = new ModelRuntime({ repository: options.repository, memoryBudgetBytes: options.memoryBudgetBytes, log: options.log });
    this.redis = new Redis({ ...this.connection, lazyConnect: true });
    this.redis.on('error', () => undefined);
    this.registration = new Registration(this.redis, this.prefix, options.heartbeatMs ?? 2000);
  }

  /** The models served, with their metadata, once started. */
  get models(): readonly ServedModel[] {
    return this.served;
  }

  /** Loads the models, registers the worker and starts taking jobs. */
  start(): Promise<void> {
    this.started ??= this.startNow();
    return this.started;
  }

  private async startNow(): Promise<void> {
    await this.runtime.start();
    this.served = await this.loadServedModels();
    await waitForRedis(this.redis, this.options.redis);
    await this.registration.claim(this.info());
    const renew = () => void this.registration.renew(this.info()).catch(() => undefined);
    this.heartbeat = setInterval(renew, this.options.heartbeatMs ?? 2000);
    this.heartbeat.unref();
    // After Redis restarts (and may have lost everything), register again at once.
    this.redis.on('ready', renew);
    for (const model of this.served) {
      const worker = new Worker(inferQueueName(model.name), (job, token) => this.process(model, job, token), {
        connection: this.connection,
        prefix: this.prefix,
        name: this.name,
        concurrency: this.options.concurrency ?? 8,
        lockDuration: this.options.lockDurationMs ?? 30000,
        stalledInterval: this.options.stalledIntervalMs ?? 30000,
        maxStalledCount: this.options.maxStalledCount ?? 1,
      });
      worker.on('error', (err) => this.options.log?.(`worker ${this.name}, model ${model.name}: ${err.message}`));
      this.workers.set(model.name, worker);
    }
    await Promise.all([...this.workers.values()].map((w) => w.waitUntilReady()));
  }

  private async loadServedModels(): Promise<ServedModel[]> {
    const index = this.runtime.index();
    const names = this.options.models ?? [...new Set(index.map((e) => e.name))];
    const served: ServedModel[] = [];
    for (const name of names) {
      const entries = index.filter((e) => e.name === name);
      const explicit = this.options.models !== undefined;
      if (entries.length === 0) throw new ClusterConfigError(`model "${name}" is not in the repository ${this.options.repository}`);
      try {
        const meta = await this.runtime.metadata(name);
        served.push({
          name, versions: meta.versions, platform: meta.platform, inputs: meta.inputs, outputs: meta.outputs,
          maxBatchSize: this.runtime.loadedModel(name)?.spec.config.maxBatchSize ?? 0,
        });
      } catch (err) {
        if (explicit) throw new ClusterConfigError(`cannot serve model "${name}": ${(err as Error).message}`);
        this.options.log?.(`not serving model "${name}": ${(err as Error).message}`);
      }
    }
    if (served.length === 0) throw new ClusterConfigError(`no model to serve in ${this.options.repository}`);
    return served;
  }

  private info(): WorkerInfo {
    return {
      name: this.name, instance: this.instance, host: os.hostname(), pid: process.pid, state: this.state,
      concurrency: this.options.concurrency ?? 8, active: this.active, completed: this.completed, failed: this.failed,
      startedAt: this.startedAt, heartbeatAt: Date.now(), models: this.served,
    };
  }

  private async process(model: ServedModel, job: Job, token: string | undefined): Promise<JobResult> {
    const start = performance.now();
    const queue = inferQueueName(model.name);
    const keys = clusterKeys(this.prefix);
    this.active++;
    const cancel = new AbortController();
    try {
      const data = parseJobData(job.data, job.name);
      if (data.model !== model.name) throw new InvalidRequestError(`malformed job: it names model "${data.model.slice(0, 128)}" in the queue of "${model.name}"`);
      const items = decodeItems(await readPayload(this.redis, keys.payload(queue, job.id!, 'in'), data.input));
      const version = data.version ?? Math.max(...model.versions.map(Number));
      const work = executeJob(this.runtime, model.name, job.name as JobKind, data, version, items, cancel.signal);
      const outcome = await Promise.race([work, this.handedBack]);
      if (outcome === HANDED_BACK) {
        // Draining ran out of time: the job goes back to the queue for another worker, not to failed.
        cancel.abort();
        await job.moveToWait(token);
        // BullMQ does not wake idle workers for a prioritized job moved back to wait; its base marker does.
        await this.redis.zadd(this.workers.get(model.name)!.keys.marker, 0, '0');
        throw new WaitingError();
      }
      const payload = encodeItems(outcome.items);
      const ref = payloadRef(payload, this.limits, 'the outputs are');
      await storePayload(this.redis, keys.payload(queue, job.id!, 'out'), payload, ref, this.limits);
      this.completed++;
      return { output: ref, version: outcome.version, runMs: performance.now() - start, worker: this.name, attempts: job.attemptsStarted };
    } catch (err) {
      if (err instanceof WaitingError) throw err;
      this.failed++;
      throw new UnrecoverableError(failureReason(err));
    } finally {
      this.active--;
    }
  }

  /** Stops taking jobs, lets jobs in progress finish for up to drainTimeoutMs, hands the rest back, unregisters. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.started?.catch(() => undefined);
      clearInterval(this.heartbeat);
      this.state = 'draining';
      if (this.workers.size) await this.registration.renew(this.info()).catch(() => undefined);
      const deadline = setTimeout(this.handBack, this.options.drainTimeoutMs ?? 30000);
      await Promise.all([...this.workers.values()].map((w) => w.close()));
      clearTimeout(deadline);
      if (this.workers.size) await this.registration.remove(this.name).catch(() => undefined);
      await this.runtime.close();
      this.redis.disconnect();
    })();
    return this.closing;
  }
}
