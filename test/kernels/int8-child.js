// Runs int8 kernel calls in a fresh process at one ISA (see child-protocol.js).
'use strict';
const { serveCases } = require('./child-protocol');

const addon = require(process.argv[2]);
const internals = addon._int8Internals;

async function run(c, place) {
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

serveCases(addon, run, () => internals.isa());
