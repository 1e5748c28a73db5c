// Runs linearFloat cases in a fresh process at one ISA (ONNXFORGE_ISA is read when the
// addon loads); the protocol of int8-child.js: v8-serialized { cases, threads, guard } on
// stdin, { isa, results } on stdout. guard 'tail' | 'head': every input lies flush
// against an inaccessible page after (before) it, and so do the packed weights, so a
// read past an edge kills the process with SIGSEGV.
'use strict';
const fs = require('fs');
const v8 = require('v8');

const addon = require(process.argv[2]);
const input = v8.deserialize(fs.readFileSync(0));
const internals = addon._int8Internals;

function place(array) {
  if (!input.guard || !array || array.length === 0) return array;
  const copy = internals.guardedArray('float32', array.length, input.guard);
  copy.set(array);
  return copy;
}

async function run(c) {
  const w = addon.packFloatWeights(place(c.b), c.k, c.n, { transposed: c.transposed });
  const x = place(c.x);
  const bias = c.bias ? place(c.bias) : null;
  const opts = { activation: c.activation };
  if (c.residual) opts.residual = place(c.residual);
  const result = { isa: w.isa, y: addon.linearFloat(x, c.m, c.k, w, bias, opts) };
  result.yAsync = await addon.linearFloatAsync(x, c.m, c.k, w, bias, opts);
  w.dispose();
  return result;
}

(async () => {
  if (input.threads) addon.setNumThreads(input.threads);
  if (input.guard) internals.setGuardMode(input.guard);
  const results = [];
  for (const c of input.cases) results.push(await run(c));
  internals.setGuardMode('off');
  process.stdout.write(v8.serialize({ isa: addon._floatInternals.isa(), results }));
})().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err));
  process.exit(1);
});
