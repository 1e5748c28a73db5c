// Runs sparse kernel calls in a fresh process at one ISA (ONNXFORGE_ISA is read when
// the addon loads); the protocol of int8-child.js: v8-serialized { cases, threads,
// guard } on stdin, { isa, results } on stdout. Each case packs w and runs
// matmulSparse (float32 w) or linearSparseInt8 and, on the same int8 weights, the
// dense linearInt8, so the two can be compared exactly within one ISA.
'use strict';
const fs = require('fs');
const v8 = require('v8');

const addon = require(process.argv[2]);
const input = v8.deserialize(fs.readFileSync(0));
const internals = addon._int8Internals;

const kinds = new Map([[Int8Array, 'int8'], [Float32Array, 'float32']]);
function place(array) {
  if (!input.guard || !ArrayBuffer.isView(array) || array.length === 0) return array;
  const copy = internals.guardedArray(kinds.get(array.constructor), array.length, input.guard);
  copy.set(array);
  return copy;
}

async function run(c) {
  const opts = c.pattern ? { pattern: c.pattern } : {};
  if (c.scales) opts.scales = place(c.scales);
  const w = addon.packSparse(place(c.w), c.k, c.n, opts);
  const x = place(c.x);
  const bias = c.bias ? place(c.bias) : undefined;
  const result = { isa: w.isa, nonzeros: w.nonzeros };
  if (c.w instanceof Float32Array) {
    result.y = addon.matmulSparse(x, c.m, c.k, w, bias);
    if (c.async) result.yAsync = await addon.matmulSparseAsync(x, c.m, c.k, w, bias);
  } else {
    result.y = addon.linearSparseInt8(x, c.m, c.k, w, bias);
    if (c.async) result.yAsync = await addon.linearSparseInt8Async(x, c.m, c.k, w, bias);
    const dense = addon.packInt8Weights(c.w, c.k, c.n, { scales: c.scales });
    result.dense = addon.linearInt8(c.x, c.m, c.k, dense, c.bias);
    dense.dispose();
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
  process.stdout.write(v8.serialize({ isa: addon.packSparse(new Float32Array(1), 1, 1).isa, results }));
})().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err));
  process.exit(1);
});
