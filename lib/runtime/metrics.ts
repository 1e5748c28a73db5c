// Prometheus metrics of one runtime, in its own registry (several runtimes can live in one process).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SchedulerObserver } from './scheduler';

type ModelLabels = 'model' | 'version';

const SECONDS_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

export class RuntimeMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter<ModelLabels | 'outcome'>({
    name: 'onnxforge_requests_total',
    help: 'Inference requests by outcome (success, invalid, overloaded, timeout, deadline_exceeded, cancelled, unavailable, error)',
    labelNames: ['model', 'version', 'outcome'],
    registers: [this.registry],
  });
  readonly inferences = new Counter<ModelLabels>({
    name: 'onnxforge_inferences_total',
    help: 'Rows inferred (a request with batch dim 4 counts 4)',
    labelNames: ['model', 'version'],
    registers: [this.registry],
  });
  readonly executions = new Counter<ModelLabels>({
    name: 'onnxforge_executions_total',
    help: 'Model executions (one per batch sent to an instance, warm-up excluded)',
    labelNames: ['model', 'version'],
    registers: [this.registry],
  });
  readonly batchSize = new Histogram<ModelLabels>({
    name: 'onnxforge_batch_size',
    help: 'Rows per execution',
    labelNames: ['model', 'version'],
    buckets: BATCH_BUCKETS,
    registers: [this.registry],
  });
  readonly queueSeconds = new Histogram<ModelLabels>({
    name: 'onnxforge_queue_seconds',
    help: 'Time a request waited in the queue before its batch was dispatched',
    labelNames: ['model', 'version'],
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  readonly computeSeconds = new Histogram<ModelLabels>({
    name: 'onnxforge_compute_seconds',
    help: 'Engine time per execution, measured in the instance',
    labelNames: ['model', 'version'],
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  readonly requestSeconds = new Histogram<ModelLabels>({
    name: 'onnxforge_request_seconds',
    help: 'Time from a request entering the runtime to its answer (queue, compute, split)',
    labelNames: ['model', 'version'],
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge<ModelLabels>({
    name: 'onnxforge_queue_depth',
    help: 'Requests waiting in the queue',
    labelNames: ['model', 'version'],
    registers: [this.registry],
  });
  readonly cancelled = new Counter<ModelLabels | 'reason' | 'stage'>({
    name: 'onnxforge_requests_cancelled_total',
    help: 'Requests given up before their answer; reason: client (disconnected or aborted), deadline (the request\'s own), timeout (the model\'s queue timeout); stage: queued (never ran), running (its batch ran, the result was dropped)',
    labelNames: ['model', 'version', 'reason', 'stage'],
    registers: [this.registry],
  });
  readonly residentBytes = new Gauge<ModelLabels>({
    name: 'onnxforge_model_resident_bytes',
    help: 'Memory a loaded model version takes, as the cache counts it: measured process memory growth over its load and warm-up (all instances), or its config memory_bytes',
    labelNames: ['model', 'version'],
    registers: [this.registry],
  });
  readonly cacheHits = new Counter<'model'>({
    name: 'onnxforge_cache_hits_total',
    help: 'Requests that found their model loaded',
    labelNames: ['model'],
    registers: [this.registry],
  });
  readonly cacheMisses = new Counter<'model'>({
    name: 'onnxforge_cache_misses_total',
    help: 'Requests that had to wait for their model to load',
    labelNames: ['model'],
    registers: [this.registry],
  });
  readonly cacheEvictions = new Counter<'model' | 'reason'>({
    name: 'onnxforge_cache_evictions_total',
    help: 'Models unloaded by the cache (reason: budget, idle)',
    labelNames: ['model', 'reason'],
    registers: [this.registry],
  });
  readonly loads = new Counter<'model' | 'outcome'>({
    name: 'onnxforge_model_loads_total',
    help: 'Model version loads (outcome: success, failure)',
    labelNames: ['model', 'outcome'],
    registers: [this.registry],
  });
  readonly loadSeconds = new Histogram<'model'>({
    name: 'onnxforge_model_load_seconds',
    help: 'Time to load and warm up a model version',
    labelNames: ['model'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly cacheBytes = new Gauge({
    name: 'onnxforge_cache_bytes',
    help: 'Memory of the loaded models as the cache counts it (onnxforge_model_resident_bytes summed), plus reservations for loads in progress',
    registers: [this.registry],
  });
  readonly cacheBudgetBytes = new Gauge({
    name: 'onnxforge_cache_budget_bytes',
    help: 'Memory budget of the model cache',
    registers: [this.registry],
  });
  readonly instanceEngines = new Gauge<ModelLabels | 'engine' | 'cause'>({
    name: 'onnxforge_instance_engine',
    help: 'Instances running each engine (ort, native) and why (cause: requested, native_faster, ort_faster, native_unsupported, not_measured, device)',
    labelNames: ['model', 'version', 'engine', 'cause'],
    registers: [this.registry],
  });
  readonly loadedModels = new Gauge({
    name: 'onnxforge_loaded_model_versions',
    help: 'Model versions loaded',
    registers: [this.registry],
  });

  readonly instanceRestarts = new Counter<ModelLabels>({
    name: 'onnxforge_instance_restarts_total',
    help: 'Instance processes (isolation "process") restarted after they died',
    labelNames: ['model', 'version'],
    registers: [this.registry],
  });
  readonly instancesFailed = new Gauge<ModelLabels>({
    name: 'onnxforge_instances_failed',
    help: 'Instance processes (isolation "process") that spent their restart budget (a crash loop): the model serves 503 instance_failed until it is loaded again',
    labelNames: ['model', 'version'],
    registers: [this.registry],
  });
  private readonly children = new Map<string, { inc(): void }>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'onnxforge_' });
  }

  /** Counts one request; the labelled series is looked up once, not hashed from a label object per request. */
  countRequest(model: string, version: string, outcome: string): void {
    this.child(this.requests, `r\0${model}\0${version}\0${outcome}`, [model, version, outcome]).inc();
  }

  countCacheHit(model: string): void {
    this.child(this.cacheHits, `h\0${model}`, [model]).inc();
  }

  private child(counter: Counter<string>, key: string, labels: string[]): { inc(): void } {
    let child = this.children.get(key);
    if (!child) this.children.set(key, (child = counter.labels(...labels)));
    return child;
  }

  /** Hooks a model version's scheduler into the histograms and counters. */
  observerFor(model: string, version: number): SchedulerObserver {
    const labels = { model, version: String(version) };
    const queueSeconds = this.queueSeconds.labels(labels);
    const computeSeconds = this.computeSeconds.labels(labels);
    const batchSize = this.batchSize.labels(labels);
    const executions = this.executions.labels(labels);
    const inferences = this.inferences.labels(labels);
    const queueDepth = this.queueDepth.labels(labels);
    return {
      onDispatch: (queueMs) => queueSeconds.observe(queueMs / 1000),
      onExecution: (rows, _requests, computeMs) => {
        computeSeconds.observe(computeMs / 1000);
        batchSize.observe(rows);
        executions.inc();
        inferences.inc(rows);
      },
      onQueueDepth: (depth) => queueDepth.set(depth),
      onCancelled: (reason, stage) => this.cancelled.inc({ ...labels, reason, stage }),
    };
  }
}
