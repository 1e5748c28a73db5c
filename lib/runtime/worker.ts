// One model instance: a worker thread that owns one engine session and runs batches
// sent by the scheduler, so the main thread's event loop never runs a model.
import { parentPort, workerData } from 'worker_threads';
import type { Session } from '../engine/engine';
import { NativeEngine } from '../engine/native/native-engine';
import { OrtEngine } from '../engine/ort-engine';
import type { Feeds } from '../engine/tensor';
import { chooseEngine, timeRuns } from './engine-choice';
import { FromWorker, ToWorker, transferList, WorkerInit } from './protocol';
import { applyTensorSpecs } from './validate';
import { warmupFeeds } from './warmup';

/** Timed passes over the warm-up inputs per engine when 'auto' chooses. */
const MEASURE_ROUNDS = 7;

const port = parentPort;
if (!port) throw new Error('lib/runtime/worker runs only as a worker thread');
const init = workerData as WorkerInit;

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

let device: 'cpu' | 'cuda' = 'cpu';
let note: string | undefined;

async function loadOrt(): Promise<Session> {
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
}

let measureFeeds: Feeds[] | undefined;

/** The model's warm-up inputs (at least one sample, even with warm-up off), timed on one engine. */
function measure(session: Session): Promise<number> {
  const { name, config } = init.model;
  measureFeeds ??= warmupFeeds(applyTensorSpecs(session.inputs, config.inputs, 'input', name),
    { ...config, warmup: { ...config.warmup, samples: Math.max(1, config.warmup.samples) } }, name);
  return timeRuns(session, measureFeeds, MEASURE_ROUNDS);
}

async function main(): Promise<void> {
  let decision: Awaited<ReturnType<typeof chooseEngine>>;
  try {
    decision = await chooseEngine(init.choice, init.device, {
      ort: loadOrt,
      native: () => new NativeEngine().load(init.file, { ...init.engine, device: 'cpu' }),
    }, measure);
  } catch (err) {
    post({ type: 'load-error', message: (err as Error).message });
    return;
  }
  const { session } = decision;
  post({
    type: 'ready', inputs: [...session.inputs], outputs: [...session.outputs], device: decision.engine === 'native' ? 'cpu' : device, note,
    engine: { engine: decision.engine, cause: decision.cause, reason: decision.reason },
  });
  const active = new Set<Promise<unknown>>();
  port!.on('message', (message: ToWorker) => {
    if (message.type === 'dispose') {
      void Promise.allSettled(active)
        .then(() => session.dispose())
        .finally(() => {
          post({ type: 'disposed' });
          port!.close();
        });
      return;
    }
    const start = process.hrtime.bigint();
    const run = session.run(message.feeds, message.outputs).then(
      (outputs) => {
        const computeMs = Number(process.hrtime.bigint() - start) / 1e6;
        post({ type: 'result', id: message.id, outputs, computeMs }, transferList(Object.values(outputs)));
      },
      (err: Error) => post({ type: 'run-error', id: message.id, message: err.message }),
    );
    active.add(run);
    void run.finally(() => active.delete(run));
  });
}

void main();
