// What `onnxforge cluster status` and /metrics show: live workers, each model queue's depth and
// jobs in flight, and batches in progress.
import type Redis from 'ioredis';
import type { QueueCounts } from './metrics';
import { BATCH_QUEUE, clusterKeys, inferQueueName } from './names';
import type { QueueSet } from './queues';
import { listWorkers, type WorkerInfo } from './registry';

export interface QueueStatus extends QueueCounts {
  /** Live workers serving the model. */
  workers: string[];
}

export interface BatchStatus {
  id: string;
  model: string;
  samples: number;
  /** Chunks finished, still queued or running, and failed. */
  chunks: { done: number; pending: number; failed: number };
}

export interface ClusterStatus {
  workers: WorkerInfo[];
  queues: QueueStatus[];
  batches: BatchStatus[];
}

export async function queueCounts(queues: QueueSet, model: string): Promise<QueueCounts> {
  const counts = await queues.get(inferQueueName(model)).getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed');
  return { model, waiting: counts.waiting + counts.prioritized, active: counts.active, delayed: counts.delayed, failed: counts.failed };
}

export async function readClusterStatus(redis: Redis, queues: QueueSet): Promise<ClusterStatus> {
  const workers = await listWorkers(redis, queues.prefix);
  const models = (await redis.smembers(clusterKeys(queues.prefix).models)).sort();
  const counts = await Promise.all(models.map((m) => queueCounts(queues, m)));
  const parents = await queues.get(BATCH_QUEUE).getJobs(['waiting-children', 'waiting']);
  const batches = await Promise.all(parents.map(async (job): Promise<BatchStatus> => {
    const deps = await job.getDependenciesCount();
    const data = job.data as { model?: unknown; samples?: unknown };
    return {
      id: job.id ?? '',
      model: String(data.model ?? ''),
      samples: Number(data.samples ?? 0),
      chunks: { done: deps.processed ?? 0, pending: deps.unprocessed ?? 0, failed: (deps.failed ?? 0) + (deps.ignored ?? 0) },
    };
  }));
  return {
    workers,
    queues: counts.map((c) => ({ ...c, workers: workers.filter((w) => w.models.some((m) => m.name === c.model)).map((w) => w.name) })),
    batches: batches.sort((a, b) => a.id.localeCompare(b.id)),
  };
}
