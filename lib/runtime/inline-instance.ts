// An instance with isolation 'none': the engine session lives in the server's own thread and the
// scheduler calls its run directly, so a request pays no hop to a worker thread: no postMessage, no
// structured clone of its tensors, no thread wake-up.
// What it gives up: nothing separates the engine from the server, and engine work done on the calling
// thread holds the event loop: onnxruntime-node (1.30) runs session.run on the JavaScript thread, and
// the native engine runs plans of up to a few million multiply-adds there (larger ones on the libuv pool).
import type { ValueMetadata } from '../engine/engine';
import type { Feeds } from '../engine/tensor';
import { ExecutionError, ModelLoadFailedError } from './errors';
import type { EngineInfo, WorkerInit } from './protocol';
import { InstanceResult, InstanceSession } from './instance-session';
import { mark, markCompute, profiling } from './request-profile';

export class InlineInstance {
  /** Runs started and not yet answered. */
  inflight = 0;
  /** Never set: an engine failure on one request rejects that request only. */
  readonly failure: string | undefined = undefined;
  readonly inputs: readonly ValueMetadata[];
  readonly outputs: readonly ValueMetadata[];
  readonly device: 'cpu' | 'cuda';
  readonly note: string | undefined;
  engine: EngineInfo;
  private disposed: Promise<void> | undefined;
  /** Runs started (or about to start, on the next turn) and not finished. */
  private readonly running = new Set<Promise<InstanceResult>>();

  private constructor(private readonly session: InstanceSession) {
    ({ inputs: this.inputs, outputs: this.outputs, device: this.device, note: this.note, engine: this.engine } = session.ready);
  }

  static async start(init: WorkerInit): Promise<InlineInstance> {
    try {
      return new InlineInstance(await InstanceSession.open(init));
    } catch (err) {
      throw new ModelLoadFailedError(`${init.file}: ${(err as Error).message}`);
    }
  }

  /** Runs feeds on the engine; the feeds are read in place, never copied (so `transferInputs` changes nothing). */
  run(feeds: Feeds, outputs: string[] | undefined): Promise<InstanceResult> {
    if (this.disposed) return Promise.reject(new ExecutionError('instance is disposed'));
    if (profiling) {
      mark('dispatch');
      mark('posted');
    }
    this.inflight++;
    const run = this.start(feeds, outputs);
    this.running.add(run);
    const forget = () => this.running.delete(run);
    run.then(forget, forget);
    return run.then(
      (result) => {
        this.inflight--;
        if (profiling) {
          mark('replied');
          markCompute(result.computeMs);
        }
        return result;
      },
      (err: Error) => {
        this.inflight--;
        throw new ExecutionError(err.message);
      },
    );
  }

  /**
   * A run the native engine does on the calling thread starts on the next turn of the event loop, not
   * inside the dispatch: requests that arrive meanwhile find the instance busy, queue, and can batch.
   * (onnxruntime-node's run already starts on a setImmediate of its own.)
   */
  private start(feeds: Feeds, outputs: string[] | undefined): Promise<InstanceResult> {
    if (this.engine.engine !== 'native') return this.session.run(feeds, outputs);
    return new Promise((resolve, reject) => setImmediate(() => this.session.run(feeds, outputs).then(resolve, reject)));
  }

  /** Releases the session once the runs already started have finished. */
  dispose(): Promise<void> {
    this.disposed ??= Promise.allSettled(this.running).then(() => this.session.dispose());
    return this.disposed;
  }
}
