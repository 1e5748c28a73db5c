// Where a model's instances run: in the server's own thread (isolation 'none': the engine's run is
// called directly, no hop to another thread; the cheapest), a worker thread in the server's process
// (isolation 'thread', the default: a model's JavaScript work stays off the event loop), or a child
// process each (isolation 'process': a native crash or an out-of-memory kill ends only that child;
// it is restarted and its in-flight requests get 503 instance_restarting). With 'none' and 'thread'
// such a failure takes the whole server down.
import type { ValueMetadata } from '../engine/engine';
import type { Isolation } from './config';
import { InlineInstance } from './inline-instance';
import { WorkerInstance } from './instance';
import { ProcessInstance, ProcessInstanceOptions } from './process-instance';
import type { EngineInfo, WorkerInit } from './protocol';
import type { Executor } from './scheduler';

export interface ModelInstance extends Executor {
  readonly inputs: readonly ValueMetadata[];
  readonly outputs: readonly ValueMetadata[];
  readonly device: 'cpu' | 'cuda';
  readonly note: string | undefined;
  /** The engine the instance runs, and why. */
  engine: EngineInfo;
  dispose(): Promise<void>;
}

/** What /v2/models/{m} shows of one instance: where it runs and on which engine, and why. */
export interface InstanceReport extends EngineInfo {
  isolation: Isolation;
  /** The process that runs it: the server's own for 'none' and 'thread'. */
  pid: number;
  restarts: number;
  /** Set when the instance spent its restart budget (isolation 'process'): why, until the model is loaded again. */
  failure?: string;
}

/** processOptions: restarts of isolation 'process' (counted by onRestart, limited by the restart policy). */
export function startInstance(init: WorkerInit, isolation: Isolation, processOptions: ProcessInstanceOptions): Promise<ModelInstance> {
  if (isolation === 'process') return ProcessInstance.start(init, processOptions);
  return isolation === 'none' ? InlineInstance.start(init) : WorkerInstance.start(init);
}

export function instanceReport(instance: ModelInstance): InstanceReport {
  const engine = { ...instance.engine };
  if (instance instanceof ProcessInstance) {
    const report: InstanceReport = { isolation: 'process', pid: instance.pid, restarts: instance.restarts, ...engine };
    if (instance.crashLooping) report.failure = instance.failure;
    return report;
  }
  return { isolation: instance instanceof InlineInstance ? 'none' : 'thread', pid: process.pid, restarts: 0, ...engine };
}
