// One model instance: a worker thread that owns one engine session and runs batches
// sent by the scheduler, so the main thread's event loop never runs a model.
import { parentPort, workerData } from 'worker_threads';
import { InstanceSession } from './instance-session';
import { FromWorker, ToWorker, transferList, WorkerInit } from './protocol';

const port = parentPort;
if (!port) throw new Error('lib/runtime/worker runs only as a worker thread');
const init = workerData as WorkerInit;

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

async function main(): Promise<void> {
  let instance: InstanceSession;
  try {
    instance = await InstanceSession.open(init);
  } catch (err) {
    post({ type: 'load-error', message: (err as Error).message });
    return;
  }
  post({ type: 'ready', ...instance.ready });
  port!.on('message', (message: ToWorker) => {
    if (message.type === 'dispose') {
      void instance.dispose().finally(() => {
        post({ type: 'disposed' });
        port!.close();
      });
      return;
    }
    const { id } = message;
    instance.run(message.feeds, message.outputs).then(
      ({ outputs, computeMs }) => post({ type: 'result', id, outputs, computeMs }, transferList(Object.values(outputs))),
      (err: Error) => post({ type: 'run-error', id, message: err.message }),
    );
  });
}

void main();
