// Runs the native engine in a fresh process (ONNXFORGE_ISA is read when the addon loads) on
// float32, int8, sparse and sparse-int8 models, beside onnxruntime; prints the agreement as JSON.
'use strict';
const path = require('path');
const root = path.resolve(__dirname, '..', '..');
const lib = require(path.join(root, 'dist', 'lib', 'index.js'));

function agreement(a, b) {
  let dot = 0, na = 0, nb = 0, maxDiff = 0, scale = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
    maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(a[i]));
  }
  return { cosine: dot / Math.sqrt(na * nb), maxRelativeError: maxDiff / scale };
}

async function main() {
  const base = lib.buildTransformerBlock({ seq: 17, hidden: 96, heads: 3, ffn: 384, batch: 'batch', seed: 3 });
  const pruned = (await lib.prune(base, { sparsity: 0.95, pattern: 'unstructured' })).model;
  const variants = {
    float32: base,
    int8: (await lib.quantize(base, { mode: 'dynamic' })).model,
    sparse: pruned,
    'sparse-int8': (await lib.quantize(pruned, { mode: 'dynamic' })).model,
    mlp: lib.buildMlp({ inputSize: 63, hidden: [65, 255], outputSize: 15 }),
    conv: lib.buildConvNet({ channels: 3, size: 17, classes: 7, widths: [5, 9], batch: 'batch' }),
  };
  const results = { isa: lib.kernels.cpuInfo().isa, variants: {} };
  for (const [name, model] of Object.entries(variants)) {
    const bytes = lib.serializeModel(model);
    const ort = await new lib.OrtEngine().load(bytes);
    const native = await new lib.NativeEngine().load(bytes);
    const dims = name === 'mlp' ? [5, 63] : name === 'conv' ? [2, 3, 17, 17] : [3, 17, 96];
    const input = { type: 'float32', dims, data: lib.randomNormal(dims.reduce((p, d) => p * d, 1), 11) };
    const [want, got] = await Promise.all([ort.run({ input }), native.run({ input })]);
    results.variants[name] = { kinds: native.report.layers.map((l) => l.kind), ...agreement(want.output.data, got.output.data) };
    await ort.dispose();
    await native.dispose();
  }
  process.stdout.write(JSON.stringify(results));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack || err));
  process.exit(1);
});
