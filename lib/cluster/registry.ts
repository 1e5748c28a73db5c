// Live workers: each worker keeps a JSON registration under its name, renewed by a heartbeat and
// expiring when the worker stops renewing it (killed, partitioned). Clients read it to know which
// models are served, with which versions, inputs and outputs.
import type Redis from 'ioredis';
import type { ValueMetadata } from '../engine/engine';
import { ClusterConfigError, clusterKeys } from './names';

export interface ServedModel {
  name: string;
  versions: string[];
  platform: string;
  inputs: ValueMetadata[];
  outputs: ValueMetadata[];
  /** 0: the model takes whole tensors; >0: dim 0 is the batch dim. */
  maxBatchSize: number;
}

export interface WorkerInfo {
  name: string;
  /** Random per process: tells a worker's own registration from another process using its name. */
  instance: string;
  host: string;
  pid: number;
  state: 'serving' | 'draining';
  /** Jobs taken at once per model. */
  concurrency: number;
  /** Jobs in progress now. */
  active: number;
  completed: number;
  failed: number;
  startedAt: number;
  heartbeatAt: number;
  models: ServedModel[];
}

export class WorkerNameTakenError extends ClusterConfigError {}

/** One worker's registration: claimed once, renewed on every heartbeat, removed at shutdown. */
export class Registration {
  private readonly keys;
  private readonly ttlMs: number;

  constructor(private readonly redis: Redis, prefix: string, heartbeatMs: number) {
    this.keys = clusterKeys(prefix);
    this.ttlMs = heartbeatMs * 3;
  }

  /** Registers `info`; refuses a name another live process holds. */
  async claim(info: WorkerInfo): Promise<void> {
    const key = this.keys.worker(info.name);
    const claimed = await this.redis.set(key, JSON.stringify(info), 'PX', this.ttlMs, 'NX');
    if (claimed !== 'OK') {
      throw new WorkerNameTakenError(`worker name "${info.name}" is in use by a live worker (or one that stopped less than ${Math.ceil(this.ttlMs / 1000)} s ago); choose another --name`);
    }
    await this.redis.multi().sadd(this.keys.workers, info.name).sadd(this.keys.models, ...info.models.map((m) => m.name)).exec();
  }

  /** Renews the registration (and restores it after a Redis restart lost it). */
  async renew(info: WorkerInfo): Promise<void> {
    await this.redis.multi()
      .set(this.keys.worker(info.name), JSON.stringify(info), 'PX', this.ttlMs)
      .sadd(this.keys.workers, info.name)
      .sadd(this.keys.models, ...info.models.map((m) => m.name))
      .exec();
  }

  async remove(name: string): Promise<void> {
    await this.redis.multi().del(this.keys.worker(name)).srem(this.keys.workers, name).exec();
  }
}

/** Every live worker, by name; names whose registration expired are dropped from the set. */
export async function listWorkers(redis: Redis, prefix: string): Promise<WorkerInfo[]> {
  const keys = clusterKeys(prefix);
  const names = (await redis.smembers(keys.workers)).sort();
  if (names.length === 0) return [];
  const values = await redis.mget(...names.map((n) => keys.worker(n)));
  const dead = names.filter((_, i) => values[i] === null);
  if (dead.length) await redis.srem(keys.workers, ...dead);
  return values.flatMap((v) => {
    if (v === null) return [];
    try {
      return [JSON.parse(v) as WorkerInfo];
    } catch {
      return [];
    }
  });
}

/** Models served by at least one live worker, with the union of their versions. */
export function servedModels(workers: readonly WorkerInfo[]): Map<string, ServedModel> {
  const models = new Map<string, ServedModel>();
  for (const worker of workers) {
    for (const m of worker.models) {
      const known = models.get(m.name);
      if (!known) models.set(m.name, { ...m, versions: [...m.versions] });
      else known.versions = [...new Set([...known.versions, ...m.versions])].sort((a, b) => Number(a) - Number(b));
    }
  }
  return models;
}
