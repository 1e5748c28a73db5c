// The server-side handle of an instance with isolation 'process': a child process (process-host)
// that owns the engine session. Tensors go through shared memory (shared-tensors): feeds in this
// process's region, outputs in the child's, copied out as soon as they arrive. When the child dies
// (SIGKILL, a native crash, the OOM killer), its in-flight requests get 503 instance_restarting at
// once, both regions are dropped, and a fresh child is started after the restart budget's backoff;
// requests sent meanwhile wait for it. A child that keeps dying spends the budget: the instance is
// marked failed (503 instance_failed) until the model is loaded again.
import { ChildProcess, fork, spawn } from 'child_process';
import * as path from 'path';
import type { ValueMetadata } from '../engine/engine';
import type { Feeds, HostTensor } from '../engine/tensor';
import { Clock, systemClock } from './clock';
import { ExecutionError, InstanceFailedError, InstanceRestartingError, ModelLoadFailedError } from './errors';
import type { InstanceResult } from './instance-session';
import type { EngineInfo, FromHost, HostMessage, WorkerInit } from './protocol';
import { DEFAULT_RESTART_POLICY, RestartBudget, RestartPolicy } from './restart-budget';
import { RegionId, SharedReader, SharedWriter, sharedTensorsEnabled } from './shared-tensors';

type Ready = Extract<FromHost, { type: 'ready' }>;

interface Pending {
  resolve(result: InstanceResult): void;
  reject(err: Error): void;
  /** The block of this process's region holding the run's feeds, freed when the run is answered. */
  feeds?: RegionId & { block: number };
}

export interface ProcessInstanceOptions {
  /** Called each time a dead child is restarted. */
  onRestart?: () => void;
  /** Called once when the restart budget is spent and the instance is marked failed. */
  onFailed?: () => void;
  restartPolicy?: RestartPolicy;
  /** Times the restart budget and its backoff (tests step it). */
  clock?: Clock;
}

/** A child running process-host: compiled code forks the .js; TypeScript sources (jest) get a transpiling require hook. */
function hostProcess(): ChildProcess {
  const extension = path.extname(__filename);
  const entry = path.join(__dirname, `process-host${extension}`);
  // glibc raises its mmap threshold after each large free, so later large buffers come from heaps it
  // never returns to the system: a fixed threshold keeps them mmapped, and freed pages go back.
  const env = { MALLOC_MMAP_THRESHOLD_: '131072', ...process.env };
  const options = { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] as ('ignore' | 'inherit' | 'ipc')[], serialization: 'advanced' as const, env };
  if (extension !== '.ts') return fork(entry, [], options);
  const bootstrap = `
    const ts = require(${JSON.stringify(require.resolve('typescript'))});
    const fs = require('fs');
    const compilerOptions = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true };
    require.extensions['.ts'] = (module, filename) =>
      module._compile(ts.transpileModule(fs.readFileSync(filename, 'utf8'), { fileName: filename, compilerOptions }).outputText, filename);
    require(${JSON.stringify(entry)});
  `;
  return spawn(process.execPath, ['-e', bootstrap], options);
}

/** Starts a child and loads the model in it; resolves once it is ready to run. */
function startHost(init: WorkerInit): Promise<{ child: ChildProcess; ready: Ready }> {
  const child = hostProcess();
  return new Promise((resolve, reject) => {
    const onMessage = (message: FromHost) => {
      if (message.type === 'ready') finish(() => resolve({ child, ready: message }));
      else if (message.type === 'load-error') finish(() => reject(new ModelLoadFailedError(message.message)));
    };
    const onExit = (code: number | null, signal: string | null) =>
      finish(() => reject(new ModelLoadFailedError(`${init.file}: instance process exited during load (${signal ?? `code ${code}`})`)));
    const onError = (err: Error) => finish(() => reject(new ModelLoadFailedError(`${init.file}: instance process failed: ${err.message}`)));
    const finish = (settle: () => void) => {
      child.off('message', onMessage).off('exit', onExit).off('error', onError);
      settle();
    };
    child.on('message', onMessage).on('exit', onExit).on('error', onError);
    child.send({ type: 'init', init } satisfies HostMessage);
  });
}

export class ProcessInstance {
  /** Batches sent and not yet answered. */
  inflight = 0;
  /** Set when the restart budget is spent: the instance takes no more work. */
  failure: string | undefined;
  /** Children started after the first one died. */
  restarts = 0;
  readonly inputs: readonly ValueMetadata[];
  readonly outputs: readonly ValueMetadata[];
  readonly device: 'cpu' | 'cuda';
  readonly note: string | undefined;
  /** The engine the child runs, and why; a restarted child runs the same one. */
  engine: EngineInfo;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private restarting: Promise<void> | undefined;
  private disposed: Promise<void> | undefined;
  private readonly clock: Clock;
  private readonly onRestart: () => void;
  private readonly onFailed: () => void;
  /** Feeds go out through this process's region; outputs come back through the child's. */
  private readonly feedsTo = new SharedWriter(sharedTensorsEnabled());
  private readonly outputsFrom = new SharedReader();
  /** The child's output blocks copied out, told to the child with the next run. */
  private released: { region: RegionId; block: number }[] = [];
  private cancelBackoff: (() => void) | undefined;

  private constructor(
    private child: ChildProcess,
    ready: Ready,
    private readonly init: WorkerInit,
    private readonly budget: RestartBudget,
    options: ProcessInstanceOptions,
  ) {
    this.inputs = ready.inputs;
    this.outputs = ready.outputs;
    this.device = ready.device;
    this.note = ready.note;
    this.engine = ready.engine;
    this.clock = options.clock ?? systemClock;
    this.onRestart = options.onRestart ?? (() => {});
    this.onFailed = options.onFailed ?? (() => {});
    this.attach(child);
  }

  static async start(init: WorkerInit, options: ProcessInstanceOptions = {}): Promise<ProcessInstance> {
    // A bad policy is refused before any child starts.
    const budget = new RestartBudget(options.restartPolicy ?? DEFAULT_RESTART_POLICY, options.clock ?? systemClock);
    const { child, ready } = await startHost(init);
    return new ProcessInstance(child, ready, init, budget, options);
  }

  /** The child process now running the model (changes on a restart). */
  get pid(): number {
    return this.child.pid!;
  }

  /** True once the restart budget is spent: only loading the model again brings it back. */
  get crashLooping(): boolean {
    return this.failure !== undefined && !this.disposed;
  }

  /** The error a request gets once the instance is marked failed (the scheduler answers queued requests with it). */
  failureError(): Error {
    return new InstanceFailedError(this.failure ?? 'instance failed');
  }

  /** Resolves once a restart in progress (backoff included) has finished or failed. */
  async settled(): Promise<void> {
    while (this.restarting) await this.restarting;
  }

  private attach(child: ChildProcess): void {
    child.on('message', (message: FromHost) => this.onMessage(message));
    child.once('exit', (code, signal) => this.onExit(child, code, signal));
    child.on('error', () => {}); // a send to a dead child; its exit answers the requests
  }

  run(feeds: Feeds, outputs: string[] | undefined): Promise<InstanceResult> {
    if (this.failure) return Promise.reject(new InstanceFailedError(this.failure));
    if (this.disposed) return Promise.reject(new ExecutionError('instance is disposed'));
    const id = this.nextId++;
    this.inflight++;
    return new Promise<InstanceResult>((resolve, reject) => {
      const pending: Pending = { resolve, reject };
      this.pending.set(id, pending);
      const send = () => {
        if (!this.pending.has(id)) return;
        // Written only now: a restart replaces the region, and the new child must see the feeds.
        const shared = this.feedsTo.write(feeds);
        if (shared) pending.feeds = { ...shared.region, block: shared.block };
        const released = this.released;
        this.released = [];
        const message: HostMessage = shared ? { type: 'run', id, shared, outputs, released } : { type: 'run', id, feeds, outputs, released };
        this.child.send(message, () => {});
      };
      if (this.restarting) void this.restarting.then(send);
      else send();
    });
  }

  private onMessage(message: FromHost): void {
    if (message.type !== 'result' && message.type !== 'run-error') return;
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    this.inflight--;
    // The child is done with the feeds once it answers.
    if (pending.feeds) this.feedsTo.release(pending.feeds, pending.feeds.block);
    if (message.type === 'run-error') return pending.reject(new ExecutionError(message.message));
    let outputs = message.outputs as Record<string, HostTensor> | undefined;
    if (message.shared) {
      try {
        outputs = this.outputsFrom.copy(message.shared);
      } catch (err) {
        return pending.reject(new ExecutionError(`cannot read the instance's outputs: ${(err as Error).message}`));
      }
      this.released.push({ region: message.shared.region, block: message.shared.block });
    }
    pending.resolve({ outputs: outputs!, computeMs: message.computeMs });
  }

  private onExit(child: ChildProcess, code: number | null, signal: string | null): void {
    if (child !== this.child || this.disposed) return;
    this.childDied(`instance process ${child.pid} died (${signal ?? `exit code ${code}`})`);
  }

  /** Answers the dead child's runs, drops both regions, and restarts it after the backoff, or marks the instance failed. */
  private childDied(reason: string): void {
    this.feedsTo.close();
    this.outputsFrom.close();
    this.released = [];
    const delay = this.budget.next();
    if (delay === undefined) {
      this.failure = `${reason}; the instance ${this.budget.describe()} and is marked failed: load the model again to retry`;
      this.rejectAll(() => new InstanceFailedError(this.failure!));
      this.onFailed();
      return;
    }
    this.rejectAll(() => new InstanceRestartingError(`${reason}; it is restarting, retry the request`));
    this.restarts++;
    this.onRestart();
    const restart = new Promise<void>((resolve) => {
      if (delay === 0) return resolve();
      const timer = this.clock.setTimer(() => {
        this.cancelBackoff = undefined;
        resolve();
      }, delay);
      // dispose() does not wait out a backoff.
      this.cancelBackoff = () => {
        this.clock.clearTimer(timer);
        this.cancelBackoff = undefined;
        resolve();
      };
    })
      .then(() => (this.disposed ? undefined : startHost({ ...this.init, choice: this.engine.engine })))
      .then((started) => {
        if (!started) return;
        if (this.disposed) {
          started.child.kill('SIGKILL');
          return;
        }
        this.child = started.child;
        this.attach(started.child);
      });
    this.restarting = restart
      .catch((err: Error) => {
        // A child that cannot load counts against the budget like one that crashes.
        this.restarting = undefined;
        this.childDied(`${reason}, and its restart failed: ${err.message}`);
      })
      .finally(() => {
        if (this.restarting === tracked) this.restarting = undefined;
      });
    const tracked = this.restarting;
  }

  private rejectAll(error: () => Error): void {
    for (const pending of this.pending.values()) pending.reject(error());
    this.pending.clear();
    this.inflight = 0;
  }

  /** Lets batches already sent finish, then ends the child (killed if it does not leave within 5 s). */
  dispose(): Promise<void> {
    this.disposed ??= (async () => {
      this.cancelBackoff?.();
      await this.settled();
      const child = this.child;
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        if (child.connected) child.send({ type: 'dispose' } satisfies HostMessage, () => {});
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      this.rejectAll(() => new ExecutionError('instance is disposed'));
      this.feedsTo.close();
      this.outputsFrom.close();
    })();
    return this.disposed;
  }
}
