// The server-side handle of an instance with isolation 'process': a child process (process-host)
// that owns the engine session. When the child dies (SIGKILL, a native crash, the OOM killer), its
// in-flight requests get 503 instance_restarting at once, a fresh child is started, and requests
// sent meanwhile wait for it.
import { ChildProcess, fork, spawn } from 'child_process';
import * as path from 'path';
import type { ValueMetadata } from '../engine/engine';
import type { Feeds, HostTensor } from '../engine/tensor';
import { ExecutionError, InstanceRestartingError, ModelLoadFailedError } from './errors';
import type { InstanceResult } from './instance-session';
import type { EngineInfo, FromWorker, HostMessage, WorkerInit } from './protocol';

type Ready = Extract<FromWorker, { type: 'ready' }>;

interface Pending {
  resolve(result: InstanceResult): void;
  reject(err: Error): void;
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
    const onMessage = (message: FromWorker) => {
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
  /** Set when the child died and could not be restarted: the instance takes no more work. */
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

  private constructor(
    private child: ChildProcess,
    ready: Ready,
    private readonly init: WorkerInit,
    private readonly onRestart: () => void,
  ) {
    this.inputs = ready.inputs;
    this.outputs = ready.outputs;
    this.device = ready.device;
    this.note = ready.note;
    this.engine = ready.engine;
    this.attach(child);
  }

  static async start(init: WorkerInit, onRestart: () => void = () => {}): Promise<ProcessInstance> {
    const { child, ready } = await startHost(init);
    return new ProcessInstance(child, ready, init, onRestart);
  }

  /** The child process now running the model (changes on a restart). */
  get pid(): number {
    return this.child.pid!;
  }

  private attach(child: ChildProcess): void {
    child.on('message', (message: FromWorker) => this.onMessage(message));
    child.once('exit', (code, signal) => this.onExit(child, code, signal));
    child.on('error', () => {}); // a send to a dead child; its exit answers the requests
  }

  run(feeds: Feeds, outputs: string[] | undefined): Promise<InstanceResult> {
    if (this.failure) return Promise.reject(new ExecutionError(this.failure));
    if (this.disposed) return Promise.reject(new ExecutionError('instance is disposed'));
    const id = this.nextId++;
    this.inflight++;
    return new Promise<InstanceResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const send = () => {
        if (this.pending.has(id)) this.child.send({ type: 'run', id, feeds, outputs } satisfies HostMessage, () => {});
      };
      if (this.restarting) void this.restarting.then(send);
      else send();
    });
  }

  private onMessage(message: FromWorker): void {
    if (message.type !== 'result' && message.type !== 'run-error') return;
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    this.inflight--;
    if (message.type === 'result') pending.resolve({ outputs: message.outputs as Record<string, HostTensor>, computeMs: message.computeMs });
    else pending.reject(new ExecutionError(message.message));
  }

  private onExit(child: ChildProcess, code: number | null, signal: string | null): void {
    if (child !== this.child || this.disposed) return;
    const reason = `instance process ${child.pid} died (${signal ?? `exit code ${code}`})`;
    this.rejectAll(() => new InstanceRestartingError(`${reason}; it is restarting, retry the request`));
    this.restarts++;
    this.onRestart();
    this.restarting = startHost({ ...this.init, choice: this.engine.engine })
      .then(({ child: fresh }) => {
        if (this.disposed) {
          fresh.kill('SIGKILL');
          return;
        }
        this.child = fresh;
        this.attach(fresh);
      })
      .catch((err: Error) => {
        this.failure = `${reason} and did not restart: ${err.message}`;
        this.rejectAll(() => new ExecutionError(this.failure!));
      })
      .finally(() => {
        this.restarting = undefined;
      });
  }

  private rejectAll(error: () => Error): void {
    for (const pending of this.pending.values()) pending.reject(error());
    this.pending.clear();
    this.inflight = 0;
  }

  /** Lets batches already sent finish, then ends the child (killed if it does not leave within 5 s). */
  dispose(): Promise<void> {
    this.disposed ??= (async () => {
      await this.restarting;
      const child = this.child;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      if (child.connected) child.send({ type: 'dispose' } satisfies HostMessage, () => {});
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      this.rejectAll(() => new ExecutionError('instance is disposed'));
    })();
    return this.disposed;
  }
}
