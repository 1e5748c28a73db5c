// One model instance: a worker thread that owns one engine session and runs batches
// sent by the scheduler, so the main thread's event loop never runs a model.
import { parentPort, workerData } from 'worker_threads';
import type { Session } from '../engine/engine';
import { OrtEngine } from '../engine/ort-engine';
import { FromWorker, ToWorker, transferList, WorkerInit } from './protocol';

const port = parentPort;
if (!port) throw new Error('lib/runtime/worker runs only as a worker thread');
const init = workerData as WorkerInit;

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

async function loadSession(): Promise<{ session: Session; device: 'cpu' | 'cuda'; note?: string }> {
  const engine = new OrtEngine();
  if (init.device === 'cuda') {
    try {
      return { session: await engine.load(init.file, { ...init.engine, executionProviders: ['cuda', 'cpu'] }), device: 'cuda' };
    } catch (err) {
      // No GPU or no CUDA build of onnxruntime: serve on the CPU rather than fail.
      const note = `cuda unavailable (${(err as Error).message.split('\n')[0]}); running on cpu`;
      return { session: await engine.load(init.file, { ...init.engine, executionProviders: ['cpu'] }), device: 'cpu', note };
    }
  }
  return { session: await engine.load(init.file, { ...init.engine, executionProviders: ['cpu'] }), device: 'cpu' };
}

async function main(): Promise<void> {
  let loaded: Awaited<ReturnType<typeof loadSession>>;
  try {
    loaded = await loadSession();
  } catch (err) {
    post({ type: 'load-error', message: (err as Error).message });
    return;
  }
  const { session } = loaded;
  post({ type: 'ready', inputs: [...session.inputs], outputs: [...session.outputs], device: loaded.device, note: loaded.note });
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
