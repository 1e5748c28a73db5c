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
    // Depthwise, squeeze-excite, hard-swish, global pooling; then Pad, ConvTranspose, Resize, pool modes.
    mobilenet: lib.buildMobileNetV3Like({ size: 33, classes: 10, headHidden: 32, seed: 5 }),
    'conv-ops': lib.buildConvOpsNet({ height: 19, width: 23, seed: 5 }),
  };
  // Pruned to 80%: the convolutions run on the sparse float kernel (pixels as lanes, 64-row tiles).
  variants['resnet-sparse'] = (await lib.prune(lib.buildResNetLike({ size: 23, classes: 10, seed: 3 }), { sparsity: 0.8, pattern: 'unstructured' })).model;
  // Static QDQ: QConv writing codes through code tables, QuantizeLookup, depthwise on dequantized input.
  const calibration = [0, 1, 2].map((i) => ({ input: { type: 'float32', dims: [1, 3, 33, 33], data: lib.randomNormal(3 * 33 * 33, 30 + i) } }));
  variants['mobilenet-int8'] = (await lib.quantize(variants.mobilenet, { mode: 'static', calibration })).model;
  const results = { isa: lib.kernels.cpuInfo().isa, variants: {} };
  for (const [name, model] of Object.entries(variants)) {
    const bytes = lib.serializeModel(model);
    const ort = await new lib.OrtEngine().load(bytes);
    const native = await new lib.NativeEngine().load(bytes);
    const dims = { mlp: [5, 63], conv: [2, 3, 17, 17], mobilenet: [2, 3, 33, 33], 'mobilenet-int8': [2, 3, 33, 33], 'conv-ops': [2, 4, 19, 23], 'resnet-sparse': [3, 3, 23, 23] }[name] ?? [3, 17, 96];
    const input = { type: 'float32', dims, data: lib.randomNormal(dims.reduce((p, d) => p * d, 1), 11) };
    const [want, got] = await Promise.all([ort.run({ input }), native.run({ input })]);
    const output = Object.keys(want)[0];
    results.variants[name] = { kinds: native.report.layers.map((l) => l.kind), steps: native.report.steps, ...agreement(want[output].data, got[output].data) };
    await ort.dispose();
    await native.dispose();
  }
  process.stdout.write(JSON.stringify(results));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack || err));
  process.exit(1);
});
