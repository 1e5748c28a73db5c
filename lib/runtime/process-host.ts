// The child process of an instance with isolation 'process': it runs the same worker-thread instance
// the server runs in-process (so every engine the server runs, it runs), and relays the parent's
// runs to it over the IPC channel ('advanced' serialization: typed arrays travel as raw bytes).
// A native crash or an out-of-memory kill ends this process only; the parent restarts it.
import { WorkerInstance } from './instance';
import type { FromWorker, HostMessage } from './protocol';

function send(message: FromWorker): void {
  if (process.connected) process.send!(message);
}

if (!process.send) throw new Error('lib/runtime/process-host runs only as a child process with an IPC channel');

let instance: WorkerInstance | undefined;

// The server went away (even killed): nothing is left to serve.
process.on('disconnect', () => process.exit(0));

process.on('message', (message: HostMessage) => {
  if (message.type === 'init') {
    WorkerInstance.start(message.init).then(
      (started) => {
        instance = started;
        send({ type: 'ready', inputs: [...started.inputs], outputs: [...started.outputs], device: started.device, note: started.note, engine: started.engine });
      },
      (err: Error) => {
        send({ type: 'load-error', message: err.message });
        process.disconnect();
      },
    );
  } else if (message.type === 'run') {
    const { id } = message;
    if (!instance) return send({ type: 'run-error', id, message: 'instance process is not loaded' });
    // The feeds were copied across the channel: this process owns them, so the thread may take them.
    instance.run(message.feeds, message.outputs, true).then(
      (result) => send({ type: 'result', id, outputs: result.outputs, computeMs: result.computeMs }),
      (err: Error) => {
        send({ type: 'run-error', id, message: err.message });
        // The thread died: end this process so the parent restarts a whole one.
        if (instance?.failure) process.exit(70);
      },
    );
  } else if (message.type === 'dispose') {
    void (instance?.dispose() ?? Promise.resolve()).finally(() => {
      send({ type: 'disposed' });
      process.disconnect();
    });
  }
});
