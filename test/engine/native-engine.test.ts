// The native engine against onnxruntime on the same models and inputs: float32 transformer
// blocks and MLPs, dynamic int8, 90% pruned, pruned + int8 and static QDQ models.
import { buildMlp } from '../../lib/onnx/models/mlp';
import { buildTransformerBlock } from '../../lib/onnx/models/transformer-block';
import { quantize } from '../../lib/quantize';
import { prune } from '../../lib/prune';
import { floatFeed, compareRun, loadBoth } from './native-helpers';
import { GraphBuilder } from '../../lib/onnx/builder';
import { randomNormal } from '../../lib/onnx/random';

// Float32 kernels sum in another order than onnxruntime's: within these bounds of the issue.
const FLOAT = { cosine: 0.99999, relative: 1e-4 };
const QUANTIZED = { cosine: 0.9999, top1: 0.99 };

describe('float32 transformer blocks', () => {
  const cases = [
    { hidden: 64, heads: 4, ffn: 256, batch: 1, seq: 1 },
    { hidden: 64, heads: 1, ffn: 128, batch: 3, seq: 7 },
    { hidden: 128, heads: 8, ffn: 512, batch: 2, seq: 33 },
    { hidden: 96, heads: 12, ffn: 384, batch: 16, seq: 5 },
    { hidden: 256, heads: 4, ffn: 1024, batch: 1, seq: 128 },
  ];
  test.each(cases)('hidden $hidden, heads $heads, batch $batch, seq $seq', async (c) => {
    const model = buildTransformerBlock({ seq: c.seq, hidden: c.hidden, heads: c.heads, ffn: c.ffn, batch: 'batch', seed: c.hidden });
    const pair = await loadBoth(model);
    try {
      const result = await compareRun(pair, { input: floatFeed([c.batch, c.seq, c.hidden], c.seq) });
      expect(result.output.cosine).toBeGreaterThanOrEqual(FLOAT.cosine);
      expect(result.output.maxRelativeError).toBeLessThanOrEqual(FLOAT.relative);
      // The whole block ran on fused kernels: one attention, layer norms, linear layers.
      expect(pair.native.report.steps).toMatchObject({ Attention: 1, LayerNorm: 2, Linear: 6 });
      expect(pair.native.report.layers.every((l) => l.kind === 'dense')).toBe(true);
    } finally {
      await pair.dispose();
    }
  });

  test('a symbolic batch gets one plan per shape, and every plan stays right', async () => {
    const model = buildTransformerBlock({ seq: 8, hidden: 64, heads: 2, ffn: 128, batch: 'batch' });
    const pair = await loadBoth(model);
    try {
      for (const batch of [1, 4, 2, 4]) {
        const result = await compareRun(pair, { input: floatFeed([batch, 8, 64], batch) });
        expect(result.output.cosine).toBeGreaterThanOrEqual(FLOAT.cosine);
      }
      // The probe plan at load (batch 1) plus batches 4 and 2.
      expect(pair.native.report.plans).toBe(3);
    } finally {
      await pair.dispose();
    }
  });
});

describe('MLPs', () => {
  test.each([1, 3, 64])('784-1024-1024-10, batch %i, sync and async agree with onnxruntime', async (batch) => {
    const model = buildMlp({ inputSize: 784, hidden: [1024, 1024], outputSize: 10 });
    const pair = await loadBoth(model);
    try {
      const feeds = { input: floatFeed([batch, 784], batch) };
      const result = await compareRun(pair, feeds);
      expect(result.output.cosine).toBeGreaterThanOrEqual(FLOAT.cosine);
      expect(result.output.maxRelativeError).toBeLessThanOrEqual(FLOAT.relative);
      const sync = pair.native.runSync(feeds);
      const async = await pair.native.run(feeds);
      expect(Array.from(sync.output.data as Float32Array)).toEqual(Array.from(async.output.data as Float32Array));
      // Bias and Relu folded into the linear steps: nothing else runs.
      expect(pair.native.report.steps).toEqual({ Linear: 3 });
    } finally {
      await pair.dispose();
    }
  });
});

describe('a dynamic-quantized linear layer quantizes exactly as onnxruntime does', () => {
  // DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul (-> Add bias), as `quantize --mode dynamic` writes it.
  test.each([[1, 1, 1], [3, 17, 5], [33, 128, 128], [132, 512, 128], [64, 255, 65], [200, 768, 3]])('m %i, k %i, n %i', async (m, k, n) => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', ['m', k]);
    const y = g.node('MatMul', [x, g.initializer('w', randomNormal(k * n, k), [k, n])]);
    g.node('Add', [y, g.initializer('b', randomNormal(n, n), [n])], ['y']);
    g.output('y', 'float32', ['m', n]);
    const { model } = await quantize(g.build({ opset: 17 }), { mode: 'dynamic' });
    const pair = await loadBoth(model);
    try {
      expect(pair.native.report.layers.map((l) => l.kind)).toEqual(['int8']);
      const result = await compareRun(pair, { x: floatFeed([m, k], m + k) });
      // Same activation codes and int32 products: only the float epilogue's rounding may differ (one
      // quantization step apart would show as ~1e-2).
      expect(result.y.maxRelativeError).toBeLessThanOrEqual(2e-7);
    } finally {
      await pair.dispose();
    }
  });
});

describe('optimized models run on the matching kernels', () => {
  const base = (): ReturnType<typeof buildTransformerBlock> =>
    buildTransformerBlock({ seq: 32, hidden: 128, heads: 4, ffn: 512, batch: 'batch', seed: 7 });
  const feeds = (batch: number) => ({ input: floatFeed([batch, 32, 128], 100 + batch) });

  test('dynamic int8: int8 kernels, outputs within quantized bounds', async () => {
    const { model } = await quantize(base(), { mode: 'dynamic' });
    const pair = await loadBoth(model);
    try {
      expect(pair.native.report.layers.map((l) => l.kind)).toEqual(Array(6).fill('int8'));
      for (const batch of [1, 4]) {
        const result = await compareRun(pair, feeds(batch));
        expect(result.output.cosine).toBeGreaterThanOrEqual(QUANTIZED.cosine);
        expect(result.output.top1!).toBeGreaterThanOrEqual(QUANTIZED.top1);
      }
    } finally {
      await pair.dispose();
    }
  });

  test('90% unstructured pruning: sparse float32 kernels', async () => {
    const { model, report } = await prune(base(), { sparsity: 0.9, pattern: 'unstructured' });
    expect(report.layers.length).toBe(6);
    const pair = await loadBoth(model);
    try {
      const layers = pair.native.report.layers;
      expect(layers.map((l) => l.kind)).toEqual(Array(6).fill('sparse'));
      expect(Math.min(...layers.map((l) => l.sparsity))).toBeGreaterThanOrEqual(0.89);
      const result = await compareRun(pair, feeds(3));
      expect(result.output.cosine).toBeGreaterThanOrEqual(FLOAT.cosine);
      expect(result.output.maxRelativeError).toBeLessThanOrEqual(FLOAT.relative);
    } finally {
      await pair.dispose();
    }
  });

  test('pruned to 95% then quantized: sparse int8 kernels', async () => {
    const pruned = (await prune(base(), { sparsity: 0.95, pattern: 'unstructured' })).model;
    const { model } = await quantize(pruned, { mode: 'dynamic' });
    const pair = await loadBoth(model);
    try {
      expect(pair.native.report.layers.map((l) => l.kind)).toEqual(Array(6).fill('sparse-int8'));
      const result = await compareRun(pair, feeds(2));
      expect(result.output.cosine).toBeGreaterThanOrEqual(QUANTIZED.cosine);
      expect(result.output.top1!).toBeGreaterThanOrEqual(QUANTIZED.top1);
    } finally {
      await pair.dispose();
    }
  });

  test('pruned to 90% then quantized: below the sparse int8 crossover, dense int8 kernels', async () => {
    const pruned = (await prune(base(), { sparsity: 0.9, pattern: 'unstructured' })).model;
    const { model } = await quantize(pruned, { mode: 'dynamic' });
    const pair = await loadBoth(model);
    try {
      const layers = pair.native.report.layers;
      expect(layers.map((l) => l.kind)).toEqual(Array(6).fill('int8'));
      expect(layers[0].reason).toMatch(/^sparsity 9\d\.\d% < 94% \(int8 crossover\)$/);
    } finally {
      await pair.dispose();
    }
  });

  test('a per-layer override wins over the sparsity rule', async () => {
    const { model } = await prune(base(), { sparsity: 0.9, pattern: 'unstructured' });
    const pair = await loadBoth(model);
    const first = pair.native.report.layers[0].name;
    await pair.dispose();
    const overridden = await loadBoth(model, { linearKinds: { [first]: 'dense' } });
    try {
      const kinds = overridden.native.report.layers.map((l) => l.kind);
      expect(kinds[0]).toBe('dense');
      expect(kinds.slice(1)).toEqual(Array(5).fill('sparse'));
      expect(overridden.native.report.layers[0].reason).toBe('override');
      const result = await compareRun(overridden, feeds(1));
      expect(result.output.cosine).toBeGreaterThanOrEqual(FLOAT.cosine);
    } finally {
      await overridden.dispose();
    }
  });

  test.each([
    ['symmetric', { symmetric: true, blockSize: 32 }],
    ['with zero points', { symmetric: false, blockSize: 16 }],
  ])('weight-only int4 (MatMulNBits, %s): dense layers of the dequantized weights', async (_what, blocks) => {
    // Accuracy level 0: onnxruntime multiplies the dequantized weights in float32 too (level 4 would
    // quantize activations, which the native engine does not).
    const { model } = await quantize(base(), { mode: 'weight-only', bits: 4, accuracyLevel: 0, ...blocks });
    const pair = await loadBoth(model);
    try {
      expect(pair.native.report.layers.map((l) => l.kind)).toEqual(Array(6).fill('dense'));
      const result = await compareRun(pair, feeds(2));
      expect(result.output.cosine).toBeGreaterThanOrEqual(FLOAT.cosine);
      expect(result.output.maxRelativeError).toBeLessThanOrEqual(FLOAT.relative);
    } finally {
      await pair.dispose();
    }
  });

  test('static QDQ: each quantize/dequantize pair is one lookup step, same outputs as onnxruntime', async () => {
    // Weighted ops only: with Adds quantized too, onnxruntime's QLinearAdd requantizes in fixed point and
    // itself strays from exact int8 arithmetic by more than this comparison allows.
    const { model } = await quantize(base(), { mode: 'static', opTypes: ['MatMul', 'Gemm', 'Conv'] });
    const pair = await loadBoth(model);
    try {
      const steps = pair.native.report.steps;
      expect(steps.QuantizeLookup).toBeGreaterThan(10);
      expect(steps.QuantizeLinear ?? 0).toBe(0);
      const result = await compareRun(pair, feeds(2));
      expect(result.output.cosine).toBeGreaterThanOrEqual(QUANTIZED.cosine);
    } finally {
      await pair.dispose();
    }
  });
});
