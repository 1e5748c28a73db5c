// Runs int8 kernel calls in a fresh process: ONNXFORGE_ISA is read once, when the
// addon loads, so each ISA path needs its own process. Reads a v8-serialized
// { cases, threads, guard } from stdin, writes { isa, results } to stdout.
// guard 'tail' | 'head': every input is copied into a typed array that ends
// (starts) at an inaccessible page, and the kernels' own buffers are placed the
// same way, so any read past an edge kills the process with SIGSEGV.
'use strict';
const fs = require('fs');
const v8 = require('v8');

const addon = require(process.argv[2]);
const input = v8.deserialize(fs.readFileSync(0));
const internals = addon._int8Internals;

const kinds = new Map([[Int8Array, 'int8'], [Uint8Array, 'uint8'], [Int32Array, 'int32'], [Float32Array, 'float32']]);
function place(array) {
  if (!input.guard || !ArrayBuffer.isView(array)) return array;
  const copy = internals.guardedArray(kinds.get(array.constructor), array.length, input.guard);
  copy.set(array);
  return copy;
}

async function run(c) {
  // A plain call of a pure export, e.g. { call: 'quantize', args: [x, opts] }.
  if (c.call) return { isa: internals.isa(), value: addon[c.call](...c.args.map(place)) };
  const opts = {};
  if (c.scales) opts.scales = place(c.scales);
  if (c.zeroPoints) opts.zeroPoints = place(c.zeroPoints);
  const w = addon.packInt8Weights(place(c.b), c.k, c.n, opts);
  const result = { isa: w.isa };
  if (c.a) {
    const a = place(c.a);
    const zp = place(c.aZeroPoint);
    result.matmul = addon.matmulInteger(a, c.m, c.k, w, zp);
    if (c.async) result.matmulAsync = await addon.matmulIntegerAsync(a, c.m, c.k, w, zp);
  }
  if (c.x) {
    const x = place(c.x);
    const bias = c.bias ? place(c.bias) : undefined;
    result.linear = addon.linearInt8(x, c.m, c.k, w, bias);
    if (c.async) result.linearAsync = await addon.linearInt8Async(x, c.m, c.k, w, bias);
  }
  w.dispose();
  return result;
}

(async () => {
  if (input.threads) addon.setNumThreads(input.threads);
  if (input.guard) internals.setGuardMode(input.guard);
  const results = [];
  for (const c of input.cases) results.push(await run(c));
  internals.setGuardMode('off');
  process.stdout.write(v8.serialize({ isa: internals.isa(), results }));
})().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err));
  process.exit(1);
});
