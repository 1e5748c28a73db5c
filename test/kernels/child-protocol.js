// What the kernel test children (int8-child.js, sparse-child.js) share: ONNXFORGE_ISA is read once,
// when the addon loads, so each ISA path runs in its own process. A child reads a v8-serialized
// { cases, threads, guard } from stdin and writes { isa, results } to stdout. guard 'tail' | 'head':
// every input is copied into a typed array that ends (starts) at an inaccessible page, and the kernels'
// own buffers are placed the same way, so any read past an edge kills the process with SIGSEGV.
'use strict';
const fs = require('fs');
const v8 = require('v8');

const KINDS = new Map([[Int8Array, 'int8'], [Uint8Array, 'uint8'], [Int32Array, 'int32'], [Float32Array, 'float32']]);

/** Runs `run(c, place)` for every case; `place` puts an array where the guard mode wants it. `isa()` names the path run. */
function serveCases(addon, run, isa) {
  const input = v8.deserialize(fs.readFileSync(0));
  const internals = addon._int8Internals;
  const place = (array) => {
    if (!input.guard || !ArrayBuffer.isView(array) || array.length === 0) return array;
    const copy = internals.guardedArray(KINDS.get(array.constructor), array.length, input.guard);
    copy.set(array);
    return copy;
  };
  (async () => {
    if (input.threads) addon.setNumThreads(input.threads);
    if (input.guard) internals.setGuardMode(input.guard);
    const results = [];
    for (const c of input.cases) results.push(await run(c, place));
    internals.setGuardMode('off');
    process.stdout.write(v8.serialize({ isa: isa(), results }));
  })().catch((err) => {
    process.stderr.write(String(err && err.stack ? err.stack : err));
    process.exit(1);
  });
}

module.exports = { serveCases };
