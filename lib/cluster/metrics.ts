// Prometheus metrics of a cluster client (serve --cluster's /metrics): its own requests, what the
// workers report back for them, and, collected from Redis at each scrape, queue depths and live workers.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

const SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface QueueCounts {
  model: string;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

export interface WorkerCounts {
  name: string;
  active: number;
  completed: number;
  failed: number;
}

interface Snapshot {
  queues: QueueCounts[];
  workers: WorkerCounts[];
}

export class ClusterMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter<'model' | 'outcome'>({
    name: 'onnxforge_cluster_requests_total',
    help: 'Requests sent to the cluster by outcome (success, invalid, not_found, overloaded, timeout, cancelled, error)',
    labelNames: ['model', 'outcome'],
    registers: [this.registry],
  });
  readonly requestSeconds = new Histogram<'model'>({
    name: 'onnxforge_cluster_request_seconds',
    help: 'Round trip of a request through the cluster',
    labelNames: ['model'],
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  readonly runSeconds = new Histogram<'model'>({
    name: 'onnxforge_cluster_run_seconds',
    help: 'Time a worker spent on a job (read inputs, infer, store outputs), as the worker reports it',
    labelNames: ['model'],
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  readonly waitSeconds = new Histogram<'model'>({
    name: 'onnxforge_cluster_wait_seconds',
    help: 'Round trip minus run time: queueing in Redis plus transfer (no clocks of two machines compared)',
    labelNames: ['model'],
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  readonly retries = new Counter<'model'>({
    name: 'onnxforge_cluster_retries_total',
    help: 'Completed jobs that were started more than once (a worker died or handed them back)',
    labelNames: ['model'],
    registers: [this.registry],
  });
  readonly stalled = new Counter<'model'>({
    name: 'onnxforge_cluster_stalled_jobs_total',
    help: 'Jobs seen going back to the queue because their worker stopped renewing the lock',
    labelNames: ['model'],
    registers: [this.registry],
  });

  /** `counts` is read at each scrape: queue depths and live workers, as `cluster status` shows them. */
  constructor(counts: () => Promise<Snapshot>) {
    // One read per scrape feeds every gauge.
    let snapshot: Promise<Snapshot> | undefined;
    const read = () => (snapshot ??= counts().finally(() => setImmediate(() => (snapshot = undefined))));
    new Gauge<'model' | 'state'>({
      name: 'onnxforge_cluster_queue_jobs',
      help: 'Jobs in each model queue by state (waiting is the queue depth; failed: kept failures)',
      labelNames: ['model', 'state'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const q of (await read()).queues) {
          for (const state of ['waiting', 'active', 'delayed', 'failed'] as const) this.set({ model: q.model, state }, q[state]);
        }
      },
    });
    new Gauge({
      name: 'onnxforge_cluster_workers',
      help: 'Live workers',
      registers: [this.registry],
      async collect() {
        this.set((await read()).workers.length);
      },
    });
    new Gauge<'worker' | 'state'>({
      name: 'onnxforge_cluster_worker_jobs',
      help: 'Jobs of each live worker: in progress (active) and since it started (completed, failed), as of its last heartbeat',
      labelNames: ['worker', 'state'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const w of (await read()).workers) {
          for (const state of ['active', 'completed', 'failed'] as const) this.set({ worker: w.name, state }, w[state]);
        }
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'onnxforge_' });
  }
}
