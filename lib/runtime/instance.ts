// The main-thread handle of one worker-thread instance: start, run, dispose.
import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import type { ValueMetadata } from '../engine/engine';
import type { Feeds } from '../engine/tensor';
import { ExecutionError, ModelLoadFailedError } from './errors';
import { EngineInfo, FromWorker, ToWorker, transferList, WorkerInit } from './protocol';
import type { InstanceResult } from './instance-session';
import { mark, markCompute, profiling } from './request-profile';

interface Pending {
  resolve(result: InstanceResult): void;
  reject(err: Error): void;
}

let workerSources: Record<string, string> | undefined;

/** The worker and the lib files it requires, transpiled once per process (TypeScript sources only). */
function transpiledWorkerSources(entry: string): Record<string, string> {
  if (workerSources) return workerSources;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts = require('typescript') as typeof import('typescript');
  const sources: Record<string, string> = {};
  const pending = [entry];
  while (pending.length) {
    const file = pending.pop()!;
    if (sources[file]) continue;
    const { outputText } = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    });
    sources[file] = outputText;
    for (const match of outputText.matchAll(/require\("(\.{1,2}\/[^"]+)"\)/g)) {
      const target = path.resolve(path.dirname(file), match[1]);
      const candidate = [`${target}.ts`, path.join(target, 'index.ts')].find((f) => fs.existsSync(f));
      if (candidate) pending.push(candidate);
    }
  }
  return (workerSources = sources);
}

/**
 * Spawns the worker script. Compiled code runs dist/…/worker.js directly; when running
 * from TypeScript sources (jest) the worker gets the transpiled sources and a require hook.
 */
function spawnWorker(init: WorkerInit): Worker {
  const extension = path.extname(__filename);
  const entry = path.join(__dirname, `worker${extension}`);
  if (extension !== '.ts') return new Worker(entry, { workerData: init });
  const bootstrap = `
    const { workerData } = require('worker_threads');
    require.extensions['.ts'] = (module, filename) => module._compile(workerData.sources[filename], filename);
    require(${JSON.stringify(entry)});
  `;
  return new Worker(bootstrap, { eval: true, workerData: { ...init, sources: transpiledWorkerSources(entry) } });
}

export class WorkerInstance {
  /** Batches sent and not yet answered. */
  inflight = 0;
  /** Set when the worker died; the instance takes no more work. */
  failure: string | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private disposed: Promise<void> | undefined;

  private constructor(
    private readonly worker: Worker,
    readonly inputs: readonly ValueMetadata[],
    readonly outputs: readonly ValueMetadata[],
    readonly device: 'cpu' | 'cuda',
    readonly note: string | undefined,
    /** The engine the instance runs, and why. */
    public engine: EngineInfo,
  ) {
    worker.on('message', (message: FromWorker) => this.onMessage(message));
    worker.on('error', (err) => this.fail(`instance worker failed: ${err.message}`));
    worker.on('exit', (code) => this.fail(`instance worker exited (code ${code})`));
  }

  static start(init: WorkerInit): Promise<WorkerInstance> {
    return new Promise((resolve, reject) => {
      const worker = spawnWorker(init);
      const onError = (err: Error) => finish(() => reject(new ModelLoadFailedError(`${init.file}: ${err.message}`)));
      const onExit = (code: number) => finish(() => reject(new ModelLoadFailedError(`${init.file}: instance worker exited during load (code ${code})`)));
      const onMessage = (message: FromWorker) => {
        if (message.type === 'ready') {
          finish(() => resolve(new WorkerInstance(worker, message.inputs, message.outputs, message.device, message.note, message.engine)));
        } else if (message.type === 'load-error') {
          finish(() => reject(new ModelLoadFailedError(`${init.file}: ${message.message}`)));
          void worker.terminate();
        }
      };
      const finish = (settle: () => void) => {
        worker.off('error', onError).off('exit', onExit).off('message', onMessage);
        settle();
      };
      worker.on('error', onError).on('exit', onExit).on('message', onMessage);
    });
  }

  /** Runs feeds; `transferInputs` moves the input buffers instead of copying (only for buffers the caller gives up). */
  run(feeds: Feeds, outputs: string[] | undefined, transferInputs: boolean): Promise<InstanceResult> {
    if (this.failure) return Promise.reject(new ExecutionError(this.failure));
    if (this.disposed) return Promise.reject(new ExecutionError('instance is disposed'));
    if (profiling) mark('dispatch');
    const id = this.nextId++;
    this.inflight++;
    return new Promise<InstanceResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const message: ToWorker = { type: 'run', id, feeds, outputs };
      this.worker.postMessage(message, transferInputs ? transferList(Object.values(feeds)) : []);
      if (profiling) mark('posted');
    });
  }

  private onMessage(message: FromWorker): void {
    if (message.type !== 'result' && message.type !== 'run-error') return;
    if (profiling && message.type === 'result') {
      mark('replied');
      markCompute(message.computeMs);
    }
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    this.inflight--;
    if (message.type === 'result') pending.resolve({ outputs: message.outputs, computeMs: message.computeMs });
    else pending.reject(new ExecutionError(message.message));
  }

  private fail(reason: string): void {
    if (this.disposed) return;
    this.failure ??= reason;
    for (const pending of this.pending.values()) pending.reject(new ExecutionError(reason));
    this.pending.clear();
    this.inflight = 0;
  }

  /** Releases the session and ends the thread; batches already sent finish first. */
  dispose(): Promise<void> {
    this.disposed ??= (async () => {
      if (!this.failure) {
        const done = new Promise<void>((resolve) => {
          const onMessage = (message: FromWorker) => {
            if (message.type === 'disposed') resolve();
          };
          this.worker.on('message', onMessage);
          this.worker.once('exit', () => resolve());
        });
        this.worker.postMessage({ type: 'dispose' } satisfies ToWorker);
        await Promise.race([done, new Promise((r) => setTimeout(r, 5000).unref())]);
      }
      await this.worker.terminate();
    })();
    return this.disposed;
  }
}
