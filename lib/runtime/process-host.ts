// The child process of an instance with isolation 'process': it opens the engine session in its own
// thread (instance-session, as isolation 'none' does in the server: no further hop to a worker thread)
// and runs the parent's batches. Tensors come and go through shared memory (shared-tensors): feeds are
// read in place from the server's region, outputs are written into this process's own region.
// A native crash or an out-of-memory kill ends this process only; the parent restarts it.
import type { HostTensor } from '../engine/tensor';
import { InstanceSession } from './instance-session';
import type { FromHost, HostMessage } from './protocol';
import { SharedReader, SharedWriter, sharedTensorsEnabled } from './shared-tensors';

function send(message: FromHost): void {
  if (process.connected) process.send!(message);
}

if (!process.send) throw new Error('lib/runtime/process-host runs only as a child process with an IPC channel');

let session: InstanceSession | undefined;
const feedsFrom = new SharedReader();
const outputsTo = new SharedWriter(sharedTensorsEnabled());

// The server went away (even killed): nothing is left to serve.
process.on('disconnect', () => process.exit(0));

function run(message: Extract<HostMessage, { type: 'run' }>): void {
  const { id } = message;
  for (const { region, block } of message.released) outputsTo.release(region, block);
  if (!session) return send({ type: 'run-error', id, message: 'instance process is not loaded' });
  let feeds;
  try {
    feeds = message.shared ? feedsFrom.view(message.shared) : message.feeds!;
  } catch (err) {
    return send({ type: 'run-error', id, message: `cannot read the request's tensors: ${(err as Error).message}` });
  }
  // The feeds are views of the server's block: it frees the block only once this run is answered.
  Promise.resolve()
    .then(() => session!.run(feeds, message.outputs))
    .then(({ outputs, computeMs }) => {
      const shared = outputsTo.write(outputs as Record<string, HostTensor>);
      send(shared ? { type: 'result', id, shared, computeMs } : { type: 'result', id, outputs, computeMs });
    })
    // Every run is answered, whatever failed (the engine, or sending its outputs).
    .catch((err: Error) => send({ type: 'run-error', id, message: err.message }));
}

process.on('message', (message: HostMessage) => {
  if (message.type === 'init') {
    InstanceSession.open(message.init).then(
      (opened) => {
        session = opened;
        send({ type: 'ready', ...opened.ready });
      },
      (err: Error) => {
        send({ type: 'load-error', message: err.message });
        process.disconnect();
      },
    );
  } else if (message.type === 'run') {
    run(message);
  } else if (message.type === 'dispose') {
    void (session?.dispose() ?? Promise.resolve()).finally(() => {
      send({ type: 'disposed' });
      process.disconnect();
    });
  }
});
