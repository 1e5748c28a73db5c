// ClusterClient: runs inference on the cluster's workers as ModelRuntime runs it in-process, with
// the same errors (404 unknown model, 503 overloaded, 504 timeout, 400 bad request).
import { randomUUID } from 'crypto';
import Redis from 'ioredis';
import { performance } from 'perf_hooks';
import type { Feeds } from '../engine/tensor';
import {
  ModelNotFoundError, OverloadedError, RequestCancelledError, RequestTimeoutError, RuntimeError, ShuttingDownError,
} from '../runtime/errors';
import type { IndexEntry, InferResult, ModelMetadata } from '../runtime/runtime';
import type { CancelSignal } from '../runtime/scheduler';
import { connectionOptions, redactUrl, waitForRedis, type RedisConnectionOptions } from './connection';
import { errorFromReason, errorFromStatus } from './failure';
import { JobWaiter } from './job-waiter';
import { bullPriority, parseJobResult, type JobData, type JobKind, type JobResult } from './jobs';
import { ClusterMetrics } from './metrics';
import { BATCH_QUEUE, checkModelName, checkPrefix, clusterKeys, DEFAULT_PREFIX, inferQueueName, modelOfQueue } from './names';
import { DEFAULT_PAYLOAD_LIMITS, payloadRef, readPayload, storePayload, type PayloadLimits } from './payload';
import { QueueSet } from './queues';
import { listWorkers, servedModels, type ServedModel } from './registry';
import { readClusterStatus, type ClusterStatus } from './status';
import { decodeItems, encodeItems, type WireItem } from './wire';

export interface ClusterOptions {
  /** redis://[user:password@]host[:port][/db] or rediss://… for TLS. */
  redis: string;
  /** Key prefix shared by the cluster's workers and clients (default "onnxforge"). */
  prefix?: string;
  /** Payload size limit, inline threshold and side-key lifetime. */
  payloads?: Partial<PayloadLimits>;
}

export interface ClusterClientOptions extends ClusterOptions {
  /** Default per-request timeout in ms (default 30000; 0: none). */
  timeoutMs?: number;
  /** Jobs waiting in a model's queue before new requests get 503 (default 10000). */
  maxQueued?: number;
  /** How long the list of served models is trusted before it is read again (default 1000 ms; an unknown model always reads it). */
  registryRefreshMs?: number;
  /**
   * How long a model stays servable after it leaves the registry (default 6000 ms, a worker's registration
   * lifetime): across a Redis restart workers register again a moment after clients reconnect, and the
   * requests of that moment wait in the model's queue instead of failing with 404.
   */
  registryGraceMs?: number;
}

/** What the local runtime returns, and which worker answered, its time on the job, and how many times the job started. */
export interface ClusterInferResult extends InferResult {
  worker: string;
  runMs: number;
  attempts: number;
}

export interface ClusterInferOptions {
  /** Larger runs first (as the runtime's priority); default 0. */
  priority?: number;
  /** Round-trip limit in ms; 0: none. The job leaves the queue when it is exceeded. */
  timeoutMs?: number;
  /** Default: the latest version the worker that takes the job serves. */
  version?: number;
  /** Output names to compute; default all. */
  outputs?: string[];
  signal?: CancelSignal;
}

/** A job as it is submitted, kept until it settles so it can be submitted again after Redis lost it. */
export interface Submission {
  queue: string;
  kind: JobKind;
  data: Omit<JobData, 'input'>;
  payload: Buffer;
  priority: number;
  /** The batch's parent job, for a chunk: made with the first chunk (and again if Redis lost it). */
  parent?: { id: string; data: Record<string, unknown> };
  /** The job id may exist from an earlier run (a resumed batch): a finished one is taken as it is, a failed one runs again. */
  adopt?: boolean;
}

export class ClusterClient {
  readonly prefix: string;
  readonly metrics: ClusterMetrics;
  readonly redis: Redis;
  readonly queues: QueueSet;
  private readonly connection: RedisConnectionOptions;
  private readonly limits: PayloadLimits;
  private readonly waiter: JobWaiter;
  private readonly submissions = new Map<string, Submission>();
  private readonly timeoutMs: number;
  private readonly maxQueued: number;
  private readonly refreshMs: number;
  private served: { at: number; models: Map<string, ServedModel> } | undefined;
  private readonly lastServed = new Map<string, { model: ServedModel; at: number }>();
  private readonly graceMs: number;
  private connectedOnce = false;
  private closing: Promise<void> | undefined;

  private readonly url: string;

  constructor(options: ClusterClientOptions) {
    this.url = options.redis;
    this.prefix = checkPrefix(options.prefix ?? DEFAULT_PREFIX);
    this.connection = connectionOptions(options.redis, 'onnxforge-client');
    this.limits = { ...DEFAULT_PAYLOAD_LIMITS, ...options.payloads };
    this.timeoutMs = options.timeoutMs ?? 30000;
    this.maxQueued = options.maxQueued ?? 10000;
    this.refreshMs = options.registryRefreshMs ?? 1000;
    this.graceMs = options.registryGraceMs ?? 6000;
    this.redis = new Redis(this.connection);
    this.redis.on('error', () => undefined);
    this.redis.on('ready', () => {
      if (this.connectedOnce) void this.reconcile();
      this.connectedOnce = true;
    });
    this.queues = new QueueSet(this.redis, this.prefix);
    this.metrics = new ClusterMetrics(async () => {
      const status = await this.status();
      return { queues: status.queues, workers: status.workers };
    });
    this.waiter = new JobWaiter(this.redis, this.connection, this.prefix, {
      onStalled: (queue) => this.metrics.stalled.inc({ model: modelOfQueue(queue) ?? queue }),
    });
  }

  /** Resolves once Redis answers; a clear error when it does not within `timeoutMs`. */
  connect(timeoutMs?: number): Promise<void> {
    return waitForRedis(this.redis, this.url, timeoutMs);
  }

  /** Models served by live workers, read from the registry (cached for registryRefreshMs). */
  async models(refresh = false): Promise<Map<string, ServedModel>> {
    if (refresh || !this.served || performance.now() - this.served.at > this.refreshMs) {
      const at = performance.now();
      const models = servedModels(await listWorkers(this.redis, this.prefix));
      for (const model of models.values()) this.lastServed.set(model.name, { model, at });
      this.served = { at, models };
    }
    return this.served.models;
  }

  /** The served model, reading the registry again before calling it unknown. */
  async model(name: string, version?: number): Promise<ServedModel> {
    checkModelName(name);
    const model = (await this.models()).get(name) ?? (await this.models(true)).get(name) ?? this.recentlyServed(name);
    if (!model) throw new ModelNotFoundError(`unknown model "${name}": no live worker serves it`);
    if (version !== undefined && !model.versions.includes(String(version))) {
      throw new ModelNotFoundError(`model "${name}" has no version ${version} (serving ${model.versions.join(', ')})`);
    }
    return model;
  }

  private recentlyServed(name: string): ServedModel | undefined {
    const last = this.lastServed.get(name);
    return last && performance.now() - last.at < this.graceMs ? last.model : undefined;
  }

  async metadata(name: string, version?: number): Promise<ModelMetadata> {
    const model = await this.model(name, version);
    return { name, versions: model.versions, platform: model.platform, inputs: model.inputs, outputs: model.outputs };
  }

  /** Every served model version, like the KServe repository index (all READY: a worker serves them). */
  async index(): Promise<IndexEntry[]> {
    const models = [...(await this.models(true)).values()].sort((a, b) => a.name.localeCompare(b.name));
    return models.flatMap((m) => m.versions.map((version): IndexEntry => ({ name: m.name, version, state: 'READY' })));
  }

  status(): Promise<ClusterStatus> {
    return readClusterStatus(this.redis, this.queues);
  }

  async infer(model: string, feeds: Feeds, options: ClusterInferOptions = {}): Promise<ClusterInferResult> {
    const start = performance.now();
    try {
      if (this.closing) throw new ShuttingDownError();
      // Once connected, a Redis out of reach is a retryable 503 at once rather than a wait until it returns.
      if (this.connectedOnce && this.redis.status !== 'ready') throw new OverloadedError(`Redis at ${redactUrl(this.url)} is out of reach; retry later`);
      await this.model(model, options.version);
      const queue = inferQueueName(model);
      const payload = encodeItems([{ tensors: feeds }]);
      const priority = bullPriority(options.priority ?? 0);
      // The depth is read on the job's connection just before the job is added, so both take one round trip.
      const admission = this.waiting(queue).then(
        (waiting) => (waiting >= this.maxQueued ? new OverloadedError(`the queue of model "${model}" is full (${waiting} waiting, limit ${this.maxQueued}); retry later`) : undefined),
        (err: Error) => err,
      );
      const data = { model, version: options.version, outputs: options.outputs, priority: options.priority, timeoutMs: options.timeoutMs };
      const { result, items } = await this.run({ queue, kind: 'infer', data, payload, priority }, randomUUID(), options.timeoutMs ?? this.timeoutMs, options.signal, admission);
      const item = items[0];
      if (items.length !== 1 || !item) throw new RuntimeError(`the worker answered ${items.length} items for one request`, 500);
      if ('error' in item) throw errorFromStatus(item.error.status, item.error.message);
      this.observe(model, 'success', start, result);
      return { model, version: result.version, outputs: item.tensors, worker: result.worker, runMs: result.runMs, attempts: result.attempts };
    } catch (err) {
      this.observe(model, outcomeOf(err), start);
      throw err;
    }
  }

  /** Jobs waiting in a queue: two O(1) reads in one round trip (every job has a priority, so they sit in the prioritized set). */
  private async waiting(queue: string): Promise<number> {
    const { keys } = this.queues.get(queue);
    const [[, prioritized], [, plain]] = (await this.redis.pipeline().zcard(keys.prioritized).llen(keys.wait).exec()) as [[null, number], [null, number]];
    return prioritized + plain;
  }

  /** Submits a job and waits for its outputs; `adopted`: the job existed already (see Submission.adopt). */
  async run(
    submission: Submission, jobId: string, timeoutMs: number, signal?: CancelSignal,
    /** Resolves to the error that refuses the job (a full queue) once the job is added, or to nothing. */
    admission?: Promise<Error | undefined>,
  ): Promise<{ result: JobResult; items: WireItem[]; adopted: boolean }> {
    const { queue } = submission;
    const settled = this.waiter.wait(queue, jobId);
    const ended = settled.then(() => undefined, () => undefined);
    this.submissions.set(jobId, submission);
    let timer: NodeJS.Timeout | undefined;
    let abandoned = false;
    const drop = () => Promise.all([
      this.queues.get(queue).remove(jobId).catch(() => undefined),
      this.redis.del(clusterKeys(this.prefix).payload(queue, jobId, 'in')).catch(() => undefined),
    ]);
    // The job leaves the queue (a running one cannot: its output expires) before the caller hears of it;
    // with Redis out of reach the caller hears at once, and the job goes when Redis is back.
    const abandon = (err: Error) => {
      if (abandoned) return;
      abandoned = true;
      const dropped = drop();
      if (this.redis.status === 'ready') void dropped.then(() => this.waiter.reject(queue, jobId, err));
      else this.waiter.reject(queue, jobId, err);
    };
    const onAbort = () => abandon(new RequestCancelledError());
    try {
      if (timeoutMs > 0) timer = setTimeout(() => abandon(new RequestTimeoutError(`request timed out after ${timeoutMs} ms`)), timeoutMs);
      if (signal?.aborted) abandon(new RequestCancelledError());
      signal?.addEventListener('abort', onAbort);
      let adopted = false;
      let submitted: Promise<boolean> = Promise.resolve(false);
      // Events are collected before the job is added, so its completion cannot be missed.
      const watching = await Promise.race([this.waiter.watch(queue).then(() => true), ended.then(() => false)]).catch((err: Error) => {
        this.waiter.reject(queue, jobId, err);
        return false;
      });
      if (watching && !abandoned) {
        submitted = (submission.adopt ? this.adopt(jobId, submission).then((found) => (adopted = found)) : this.submit(jobId, submission))
          .then(() => true, (err: Error) => {
            this.waiter.reject(queue, jobId, err);
            return false;
          });
        // Given up on while it was being added (Redis out of reach): take it out again once it is there.
        void submitted.then((added) => {
          if (added && abandoned) void drop();
        });
        if (await Promise.race([submitted, ended.then(() => false)])) {
          const refused = await Promise.race([admission, ended.then(() => undefined)]);
          if (refused) abandon(refused);
        }
      }
      const result = parseJobResult(await settled);
      // A job that completed while it was being adopted: whether it existed is known once adopt returns.
      await submitted;
      const keys = clusterKeys(this.prefix);
      // A chunk's output stays until its files are written (discardOutput): a batch that dies in between finds it again.
      // Inputs that travelled inside the job left no side key: no round trip to delete one.
      const [output] = await Promise.all([
        readPayload(this.redis, keys.payload(queue, jobId, 'out'), result.output, submission.parent === undefined),
        submission.payload.length > this.limits.inlineBytes ? this.redis.del(keys.payload(queue, jobId, 'in')) : undefined,
      ]);
      return { result, items: decodeItems(output), adopted };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      this.submissions.delete(jobId);
    }
  }

  /** Drops a job's output once it is no longer needed (see run). */
  async discardOutput(queue: string, jobId: string): Promise<void> {
    await this.redis.del(clusterKeys(this.prefix).payload(queue, jobId, 'out'));
  }

  private async submit(jobId: string, s: Submission): Promise<void> {
    const batch = s.parent !== undefined;
    const ref = payloadRef(s.payload, this.limits, "the request's tensors are");
    // Adding a job whose id exists is a no-op, so every chunk can make sure its parent is there.
    if (s.parent) await this.queues.get(BATCH_QUEUE).add('batch', s.parent.data, { jobId: s.parent.id });
    // The side key (if any) and the job go out on one connection in this order: the job never arrives first.
    await Promise.all([
      storePayload(this.redis, clusterKeys(this.prefix).payload(s.queue, jobId, 'in'), s.payload, ref, this.limits),
      this.queues.get(s.queue).add(s.kind, { ...s.data, input: ref }, {
        jobId,
        priority: s.priority,
        // Batch chunks stay until their batch ends: a resumed batch finds their results.
        removeOnComplete: !batch,
        removeOnFail: batch ? false : { count: 1000 },
        parent: s.parent && { id: s.parent.id, queue: `${this.prefix}:${BATCH_QUEUE}` },
        ignoreDependencyOnFailure: batch,
      }),
    ]);
  }

  /** Submits a job unless it exists: one that finished is settled from Redis, one that failed is replaced. */
  private async adopt(jobId: string, s: Submission): Promise<boolean> {
    const existing = await this.queues.get(s.queue).getJob(jobId);
    if (existing?.finishedOn && !existing.failedReason) this.waiter.resolve(s.queue, jobId, existing.returnvalue);
    if (existing && !existing.failedReason) return true;
    await existing?.remove();
    await this.submit(jobId, s);
    return false;
  }

  /**
   * After a reconnection: a job that finished while the event stream was out of reach is settled
   * from Redis; one that Redis lost (a restart without persistence) is submitted again.
   */
  private async reconcile(): Promise<void> {
    for (const [queue, jobId] of this.waiter.waiting()) {
      const submission = this.submissions.get(jobId);
      if (!submission) continue;
      try {
        const job = await this.queues.get(queue).getJob(jobId);
        if (!job) await this.submit(jobId, submission);
        else if (job.finishedOn && job.failedReason) this.waiter.reject(queue, jobId, errorFromReason(job.failedReason));
        else if (job.finishedOn) this.waiter.resolve(queue, jobId, job.returnvalue);
      } catch {
        // Redis went away again; the next reconnection reconciles.
      }
    }
  }

  private observe(model: string, outcome: string, start: number, result?: JobResult): void {
    const seconds = (performance.now() - start) / 1000;
    this.metrics.requests.inc({ model, outcome });
    if (!result) return;
    this.metrics.requestSeconds.observe({ model }, seconds);
    this.metrics.runSeconds.observe({ model }, result.runMs / 1000);
    this.metrics.waitSeconds.observe({ model }, Math.max(0, seconds - result.runMs / 1000));
    if (result.attempts > 1) this.metrics.retries.inc({ model });
  }

  /** Stops taking requests; requests still waiting fail with 503. */
  /** Resolves once the connection to Redis is up (at once when it is): what a caller told "retry later" waits for. */
  connected(): Promise<void> {
    if (this.redis.status === 'ready') return Promise.resolve();
    return new Promise((resolve) => this.redis.once('ready', () => resolve()));
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const [queue, jobId] of this.waiter.waiting()) this.waiter.reject(queue, jobId, new ShuttingDownError());
      await this.waiter.close();
      await this.queues.close();
      await this.redis.quit().catch(() => undefined);
    })();
    return this.closing;
  }
}

function outcomeOf(err: unknown): string {
  if (!(err instanceof RuntimeError)) return 'error';
  switch (err.status) {
    case 400: return 'invalid';
    case 404: return 'not_found';
    case 413: return 'too_large';
    case 499: return 'cancelled';
    case 503: return 'overloaded';
    case 504: return 'timeout';
    default: return 'error';
  }
}
