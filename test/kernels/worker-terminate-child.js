// Workers that call a kernel in a loop and are terminated mid-call (issue 22: the whole process used to
// abort with "terminate called after throwing Napi::Error"). Prints how many workers ended, then exits 0.
'use strict';
const path = require('path');
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');
const ROOT = path.resolve(__dirname, '..', '..');

if (isMainThread) {
  const calls = process.argv.slice(2);
  let ended = 0;
  const one = (call) => new Promise((resolve) => {
    const worker = new Worker(__filename, { workerData: call });
    // Terminated as soon as the worker is inside its loop of calls.
    worker.on('message', () => worker.terminate());
    worker.on('error', (err) => { process.stderr.write(`worker error: ${err && err.message}\n`); });
    worker.on('exit', () => { ended++; resolve(); });
  });
  (async () => {
    for (const call of calls) for (let i = 0; i < 8; i++) await one(call);
    process.stdout.write(`ended ${ended}\n`);
  })();
} else {
  const { kernels } = require(path.join(ROOT, 'dist', 'lib', 'kernels'));
  const K = 256, N = 256, M = 128;
  const w = kernels.packInt8Weights(new Int8Array(K * N).fill(1), K, N, { scales: new Float32Array([0.01]) });
  const x = new Float32Array(M * K).fill(0.5);
  const calls = {
    linearInt8: () => kernels.linearInt8(x, M, K, w),
    linearInt8Async: () => kernels.linearInt8Async(x, M, K, w),
    quantize: () => kernels.quantize(x, { scale: 0.1 }),
  };
  const call = calls[workerData];
  call();
  parentPort.postMessage('looping');
  (async () => { for (;;) await call(); })();
}
