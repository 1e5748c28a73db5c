// Names in Redis: checked before use (they become key names and queue names), and the one place
// that says which key holds what.
import { ModelNotFoundError } from '../runtime/errors';

/** Key prefix of every onnxforge key (BullMQ's own keys included); clusters sharing one Redis use different ones. */
export const DEFAULT_PREFIX = 'onnxforge';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export class ClusterConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClusterConfigError';
  }
}

export function isValidName(name: string): boolean {
  return NAME.test(name);
}

/** A model name as the repository allows it; anything else cannot be served, so it is unknown (404). */
export function checkModelName(name: string): string {
  if (!isValidName(name)) throw new ModelNotFoundError(`unknown model "${name.slice(0, 200)}"`);
  return name;
}

export function checkWorkerName(name: string): string {
  if (!isValidName(name)) {
    throw new ClusterConfigError(`worker name "${name.slice(0, 200)}" must be 1-128 letters, digits, '_', '.' or '-', starting with a letter or digit`);
  }
  return name;
}

export function checkPrefix(prefix: string): string {
  if (!isValidName(prefix)) throw new ClusterConfigError(`key prefix "${prefix.slice(0, 200)}" must be 1-128 letters, digits, '_', '.' or '-'`);
  return prefix;
}

/** One BullMQ queue per model, so a model's jobs reach only the workers that serve it. */
export function inferQueueName(model: string): string {
  return `infer.${checkModelName(model)}`;
}

/** The model of an inference queue's name; undefined for other queues. */
export function modelOfQueue(queue: string): string | undefined {
  const model = queue.startsWith('infer.') ? queue.slice('infer.'.length) : undefined;
  return model !== undefined && isValidName(model) ? model : undefined;
}

/** Parent jobs of batch flows: a group record per batch, never processed. */
export const BATCH_QUEUE = 'batch';

export interface ClusterKeys {
  /** Set of registered worker names (some may have expired). */
  workers: string;
  /** A worker's registration (JSON), expiring unless its heartbeat renews it. */
  worker(name: string): string;
  /** Set of every model a worker ever served here, so status shows queues with no live worker. */
  models: string;
  /** A job's input or output tensors when too large to travel inside the job. */
  payload(queue: string, jobId: string, direction: 'in' | 'out'): string;
  /** BullMQ's event stream of a queue. */
  events(queue: string): string;
}

export function clusterKeys(prefix: string): ClusterKeys {
  return {
    workers: `${prefix}:workers`,
    worker: (name) => `${prefix}:worker:${name}`,
    models: `${prefix}:models`,
    payload: (queue, jobId, direction) => `${prefix}:payload:${queue}:${jobId}:${direction}`,
    events: (queue) => `${prefix}:${queue}:events`,
  };
}
