// What every instance runs, wherever it lives (a worker thread, a child process through its thread,
// or the server's own thread with isolation 'none'): load the model on the chosen engine, run
// batches timing the engine, and release the session once the runs in flight have finished.
import type { Session, ValueMetadata } from '../engine/engine';
import { NativeEngine } from '../engine/native/native-engine';
import { OrtEngine } from '../engine/ort-engine';
import type { Feeds, HostTensor } from '../engine/tensor';
import { chooseEngine, timeRuns } from './engine-choice';
import type { EngineInfo, WorkerInit } from './protocol';
import { applyTensorSpecs } from './validate';
import { warmupFeeds } from './warmup';

/** Timed passes over the warm-up inputs per engine when 'auto' chooses. */
const MEASURE_ROUNDS = 7;

export interface InstanceResult {
  outputs: Record<string, HostTensor>;
  computeMs: number;
}

/** What a loaded instance tells its owner. */
export interface InstanceReady {
  inputs: ValueMetadata[];
  outputs: ValueMetadata[];
  device: 'cpu' | 'cuda';
  note?: string;
  engine: EngineInfo;
}

export class InstanceSession {
  private readonly active = new Set<Promise<unknown>>();

  private constructor(private readonly session: Session, readonly ready: InstanceReady) {}

  /** Loads the model on the engine `init.choice` names ('auto': times both on the warm-up inputs). */
  static async open(init: WorkerInit): Promise<InstanceSession> {
    let device: 'cpu' | 'cuda' = 'cpu';
    let note: string | undefined;
    const loadOrt = async (): Promise<Session> => {
      const engine = new OrtEngine();
      if (init.device === 'cuda') {
        try {
          const session = await engine.load(init.file, { ...init.engine, executionProviders: ['cuda', 'cpu'] });
          device = 'cuda';
          return session;
        } catch (err) {
          // No GPU or no CUDA build of onnxruntime: serve on the CPU rather than fail.
          note = `cuda unavailable (${(err as Error).message.split('\n')[0]}); running on cpu`;
        }
      }
      return engine.load(init.file, { ...init.engine, executionProviders: ['cpu'] });
    };
    let measureFeeds: Feeds[] | undefined;
    // The model's warm-up inputs (at least one sample, even with warm-up off), timed on one engine.
    const measure = (session: Session): Promise<number> => {
      const { name, config } = init.model;
      measureFeeds ??= warmupFeeds(applyTensorSpecs(session.inputs, config.inputs, 'input', name),
        { ...config, warmup: { ...config.warmup, samples: Math.max(1, config.warmup.samples) } }, name);
      return timeRuns(session, measureFeeds, MEASURE_ROUNDS);
    };
    const decision = await chooseEngine(init.choice, init.device, {
      ort: loadOrt,
      native: () => new NativeEngine().load(init.file, { ...init.engine, device: 'cpu' }),
    }, measure);
    const { session } = decision;
    return new InstanceSession(session, {
      inputs: [...session.inputs],
      outputs: [...session.outputs],
      device: decision.engine === 'native' ? 'cpu' : device,
      note,
      engine: { engine: decision.engine, cause: decision.cause, reason: decision.reason },
    });
  }

  /** One engine run; computeMs is the engine's own time. */
  run(feeds: Feeds, outputs: string[] | undefined): Promise<InstanceResult> {
    const start = process.hrtime.bigint();
    const run = this.session.run(feeds, outputs).then((result) => ({ outputs: result, computeMs: Number(process.hrtime.bigint() - start) / 1e6 }));
    this.active.add(run);
    const forget = () => this.active.delete(run);
    run.then(forget, forget);
    return run;
  }

  /** Releases the session after the runs already started. */
  async dispose(): Promise<void> {
    await Promise.allSettled(this.active);
    await this.session.dispose();
  }
}
