// Runs sparse kernel calls in a fresh process at one ISA (see child-protocol.js). Each case packs w and
// runs matmulSparse (float32 w) or linearSparseInt8 and, on the same int8 weights, the dense
// linearInt8, so the two can be compared exactly within one ISA.
'use strict';
const { serveCases } = require('./child-protocol');

const addon = require(process.argv[2]);

async function run(c, place) {
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

serveCases(addon, run, () => addon.packSparse(new Float32Array(1), 1, 1).isa);
