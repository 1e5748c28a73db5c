// Where a model's instances run: a worker thread in the server's process (isolation 'thread', the
// default: cheapest, but a native crash or an out-of-memory kill takes the whole server down), or a
// child process each (isolation 'process': such a failure ends only that child; it is restarted and
// its in-flight requests get 503 instance_restarting).
import type { ValueMetadata } from '../engine/engine';
import { WorkerInstance } from './instance';
import { ProcessInstance } from './process-instance';
import type { EngineInfo, WorkerInit } from './protocol';
import type { Executor } from './scheduler';

export type Isolation = 'thread' | 'process';

export interface ModelInstance extends Executor {
  readonly inputs: readonly ValueMetadata[];
  readonly outputs: readonly ValueMetadata[];
  readonly device: 'cpu' | 'cuda';
  readonly note: string | undefined;
  /** The engine the instance runs, and why. */
  engine: EngineInfo;
  dispose(): Promise<void>;
}

/** What /v2/models/{m} shows of one instance. */
export interface InstanceReport {
  isolation: Isolation;
  /** The process that runs it: the server's own for 'thread'. */
  pid: number;
  restarts: number;
}

export function startInstance(init: WorkerInit, isolation: Isolation, onRestart: () => void): Promise<ModelInstance> {
  return isolation === 'process' ? ProcessInstance.start(init, onRestart) : WorkerInstance.start(init);
}

export function instanceReport(instance: ModelInstance): InstanceReport {
  if (instance instanceof ProcessInstance) return { isolation: 'process', pid: instance.pid, restarts: instance.restarts };
  return { isolation: 'thread', pid: process.pid, restarts: 0 };
}
