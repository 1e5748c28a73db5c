// Every mode on builder models: what the result holds, that onnxruntime runs it close to the
// original, and that onnxruntime turns it into its integer kernels.
import * as fs from 'fs';
import * as path from 'path';
import * as ort from 'onnxruntime-node';
import { attr, buildConvNet, buildMlp, buildTransformerBlock, GraphBuilder, loadModel, serializeModel, type Model } from '../../lib/onnx';
import { quantize } from '../../lib/quantize';
import type { QuantizeOptions } from '../../lib/quantize/options';
import { makeTempDir, removeDir } from '../helpers/temp';
import { floats, opCounts } from './helpers';

const quick = { latencyRuns: 0, verifySamples: 2 } as const;
const mlp = () => buildMlp({ inputSize: 64, hidden: [96], outputSize: 10 });
const block = () => buildTransformerBlock({ seq: 8, hidden: 32, heads: 4, ffn: 64 });
const convNet = () => buildConvNet({ channels: 3, size: 12, classes: 5 });

function worstCosine(report: { verification: { outputs: { cosine: number | null }[] } | null }): number {
  return Math.min(...(report.verification?.outputs ?? []).map((o) => o.cosine ?? 1));
}

let dir: string;
beforeAll(() => {
  dir = makeTempDir();
});
afterAll(() => removeDir(dir));

/** The node types onnxruntime runs after its graph optimizations (fusions included). */
async function optimizedOps(model: Model): Promise<string[]> {
  const file = path.join(dir, `optimized-${Math.random().toString(36).slice(2)}.onnx`);
  const session = await ort.InferenceSession.create(serializeModel(model), { graphOptimizationLevel: 'extended', optimizedModelFilePath: file });
  await session.release();
  const ops = loadModel(file).graph.node.map((n) => n.opType);
  fs.rmSync(file);
  return ops;
}

describe('dynamic, qoperator', () => {
  it('puts MatMulInteger behind one DynamicQuantizeLinear per activation, and onnxruntime fuses it', async () => {
    const source = block();
    const before = serializeModel(source);
    const { model, report } = await quantize(source, { mode: 'dynamic', ...quick });
    const ops = opCounts(model);
    expect(ops.MatMulInteger).toBe(6);
    expect(ops.MatMul).toBe(2); // attention scores and context: both inputs are activations
    expect(ops.DynamicQuantizeLinear).toBe(4); // q/k/v share the LayerNorm output
    expect(report.quantized).toHaveLength(6);
    expect(report.skipped.map((s) => s.detail)).toEqual(Array(2).fill('the second input is not a constant (an activation)'));
    expect(report.opset).toMatchObject({ from: 21, to: 21, raised: false });
    expect(worstCosine(report)).toBeGreaterThan(0.999);
    expect(report.size.ratio).toBeLessThan(0.5);
    expect(serializeModel(source)).toEqual(before);
    const fused = await optimizedOps(model);
    expect(fused.filter((op) => op === 'DynamicQuantizeMatMul' || op === 'MatMulIntegerToFloat')).toHaveLength(6);
    expect(fused).not.toContain('MatMulInteger');
  });

  it('quantizes Gemm (transB, alpha, beta * C) and Conv with per-channel weights', async () => {
    const g = new GraphBuilder();
    g.input('x', 'float32', [2, 6]);
    const w = g.initializer('w', floats(24, 4), [4, 6]);
    const c = g.initializer('c', floats(4, 5), [4]);
    g.output(g.node('Gemm', ['x', w, c], ['y'], { transB: 1, alpha: attr.float(0.5), beta: attr.float(2) }), 'float32', [2, 4]);
    const gemm = await quantize(g.build(), { mode: 'dynamic', perChannel: true, ...quick });
    expect(opCounts(gemm.model).Gemm).toBeUndefined();
    expect(worstCosine(gemm.report)).toBeGreaterThan(0.999);

    // force: onnxruntime's ConvInteger is slower than float Conv, so by default Conv stays float (never-slower.test.ts).
    const conv = await quantize(convNet(), { mode: 'dynamic', perChannel: true, force: true, ...quick });
    expect(opCounts(conv.model)).toMatchObject({ ConvInteger: 2, MatMulInteger: 1 });
    expect(worstCosine(conv.report)).toBeGreaterThan(0.999);
    expect(conv.report.verification?.outputs[0].top1Agreement).toBe(1);
  });

  it('skips per-channel Conv with asymmetric weights, which ConvInteger cannot take', async () => {
    const { report } = await quantize(convNet(), { mode: 'dynamic', perChannel: true, symmetricWeights: false, opTypes: ['Conv'], verify: false });
    expect(report.quantized).toHaveLength(0);
    expect(report.skipped[0].detail).toMatch(/single weight zero point/);
  });
});

describe('dynamic, qdq', () => {
  it('keeps MatMul and feeds it DequantizeLinear outputs', async () => {
    const { model, report } = await quantize(mlp(), { mode: 'dynamic', format: 'qdq', perChannel: true, ...quick });
    const ops = opCounts(model);
    expect(ops).toMatchObject({ MatMul: 2, DynamicQuantizeLinear: 2, DequantizeLinear: 4 });
    expect(ops.MatMulInteger).toBeUndefined();
    expect(report.opset).toMatchObject({ from: 21, to: 21 });
    expect(worstCosine(report)).toBeGreaterThan(0.999);
  });
});

describe('weight-only', () => {
  it('4-bit: MatMulNBits with com.microsoft imported, at about 5 bits per weight', async () => {
    const source = buildMlp({ inputSize: 256, hidden: [256], outputSize: 64 });
    const { model, report } = await quantize(source, { mode: 'weight-only', bits: 4, ...quick });
    const nbits = model.nodes().filter((r) => r.node.opType === 'MatMulNBits');
    expect(nbits).toHaveLength(2);
    expect(nbits[0].node.domain).toBe('com.microsoft');
    expect(report.domainsAdded).toEqual(['com.microsoft']);
    expect(model.opsetVersion('com.microsoft')).toBe(1);
    expect(report.size.ratio).toBeLessThan(0.2);
    expect(worstCosine(report)).toBeGreaterThan(0.98);
  });

  it('4-bit with zero points and Gemm bias folded into MatMulNBits', async () => {
    const g = new GraphBuilder();
    g.input('x', 'float32', ['n', 64]);
    const w = g.initializer('w', floats(64 * 16, 8), [16, 64]);
    const c = g.initializer('c', floats(16, 9), [16]);
    g.output(g.node('Gemm', ['x', w, c], ['y'], { transB: 1 }), 'float32', ['n', 16]);
    const { model, report } = await quantize(g.build(), { mode: 'weight-only', bits: 4, symmetric: false, blockSize: 16, ...quick });
    const [node] = model.graph.node;
    expect(node.opType).toBe('MatMulNBits');
    expect(node.input).toHaveLength(6);
    expect(model.graph.initializer.map((t) => t.name)).not.toContain('w');
    expect(worstCosine(report)).toBeGreaterThan(0.99);
  });

  it('8-bit: per-channel DequantizeLinear in front of MatMul, Gemm and Conv', async () => {
    const { model, report } = await quantize(convNet(), { mode: 'weight-only', bits: 8, ...quick });
    const dq = model.graph.node.filter((n) => n.opType === 'DequantizeLinear');
    expect(dq).toHaveLength(3);
    expect(report.quantized.map((q) => q.opType).sort()).toEqual(['Conv', 'Conv', 'Gemm']);
    expect(worstCosine(report)).toBeGreaterThan(0.9999);
    expect(report.size.ratio).toBeLessThan(0.6);
  });
});

describe('static', () => {
  const samples = (count: number) => Array.from({ length: count }, (_, i) => ({
    input: { type: 'float32' as const, dims: [2, 64], data: floats(128, 100 + i) },
  }));

  it('calibrates from given samples (an async iterable) and onnxruntime runs QLinearMatMul', async () => {
    async function* feeds() {
      yield* samples(6);
    }
    const { model, report } = await quantize(mlp(), { mode: 'static', calibration: feeds(), opTypes: ['MatMul'], ...quick });
    expect(report.calibration).toEqual({ method: 'minmax', samples: 6, generated: false, tensors: 4 });
    expect(report.warnings).toEqual([]);
    expect(opCounts(model).QuantizeLinear).toBe(4);
    expect(worstCosine(report)).toBeGreaterThan(0.999);
    expect(await optimizedOps(model)).toContain('QLinearMatMul');
  });

  it('warns when the ranges come from generated random data', async () => {
    const { report } = await quantize(mlp(), { mode: 'static', randomSamples: 3, ...quick });
    expect(report.calibration?.generated).toBe(true);
    expect(report.warnings[0]).toMatch(/generated random inputs/);
    expect(report.verification?.inputsGenerated).toBe(true);
  });

  it.each(['percentile', 'entropy'] as const)('%s calibration quantizes every MatMul of the block', async (method) => {
    const { report } = await quantize(block(), { mode: 'static', method, percentile: 99.9, randomSamples: 4, ...quick } as QuantizeOptions);
    expect(report.calibration?.method).toBe(method);
    expect(report.quantized.filter((q) => q.opType === 'MatMul')).toHaveLength(8);
    expect(worstCosine(report)).toBeGreaterThan(0.99);
  });

  it('quantizes Conv bias as int32 at x_scale * w_scale so onnxruntime can use QLinearConv', async () => {
    const { model, report } = await quantize(convNet(), { mode: 'static', perChannel: true, randomSamples: 4, ...quick });
    const biases = model.graph.initializer.filter((t) => t.name.endsWith('bias_quantized'));
    expect(biases.length).toBeGreaterThanOrEqual(2);
    expect(report.opset.to).toBe(21);
    expect(worstCosine(report)).toBeGreaterThan(0.99);
    expect(await optimizedOps(model)).toContain('QLinearConv');
  });
});

describe('embeddings', () => {
  it('Gather over a constant table becomes an int8 table, Gather and DequantizeLinear when asked', async () => {
    const g = new GraphBuilder();
    g.input('ids', 'int64', [5]);
    const table = g.initializer('table', floats(50 * 8, 3), [50, 8]);
    const w = g.initializer('w', floats(8 * 4, 4), [8, 4]);
    g.output(g.node('MatMul', [g.node('Gather', [table, 'ids']), w], ['y']), 'float32', [5, 4]);
    const { model, report } = await quantize(g.build(), { mode: 'dynamic', opTypes: ['Gather', 'MatMul'], perChannel: true, ...quick });
    expect(report.quantized.map((q) => q.opType)).toEqual(['Gather', 'MatMul']);
    expect(model.graph.initializer.find((t) => t.name === 'table')).toBeUndefined();
    expect(report.opset.to).toBe(21);
    expect(worstCosine(report)).toBeGreaterThan(0.999);
  });
});

describe('batch norm folding', () => {
  /** Conv (no bias) -> BatchNormalization -> Relu -> Conv (bias) -> BatchNormalization, with a BN on the input too. */
  function convBnModel(): Model {
    const g = new GraphBuilder();
    g.input('x', 'float32', [1, 3, 8, 8]);
    const bn = (input: string, c: number, seed: number) => g.node('BatchNormalization', [input,
      g.initializer(`bn${seed}.scale`, floats(c, seed).map((v) => 1 + 0.5 * v), [c]),
      g.initializer(`bn${seed}.bias`, floats(c, seed + 1), [c]),
      g.initializer(`bn${seed}.mean`, floats(c, seed + 2).map((v) => 0.2 * v), [c]),
      g.initializer(`bn${seed}.var`, floats(c, seed + 3).map((v) => 1 + 0.5 * v), [c])], 1, { epsilon: attr.float(1e-3) });
    const input = bn('x', 3, 10);
    const w1 = g.initializer('w1', floats(4 * 3 * 9, 1), [4, 3, 3, 3]);
    const h = g.node('Relu', [bn(g.node('Conv', [input, w1], 1, { pads: [1, 1, 1, 1] }), 4, 20)]);
    const w2 = g.initializer('w2', floats(5 * 4 * 9, 2), [5, 4, 3, 3]);
    const b2 = g.initializer('b2', floats(5, 3), [5]);
    g.output(bn(g.node('Conv', [h, w2, b2]), 5, 30), 'float32');
    return g.build();
  }

  it('folds each Conv -> BatchNormalization pair and keeps the others', async () => {
    const { model, report } = await quantize(convBnModel(), { mode: 'weight-only', bits: 8, ...quick });
    expect(report.batchNormsFolded).toBe(2);
    expect(opCounts(model).BatchNormalization).toBe(1); // the one on the graph input has no Conv before it
    expect(report.quantized).toHaveLength(2);
    expect(worstCosine(report)).toBeGreaterThan(0.9999);
  });

  it('leaves batch norms alone when asked or when Conv is not quantized', async () => {
    const kept = await quantize(convBnModel(), { mode: 'weight-only', bits: 8, foldBatchNorm: false, verify: false });
    expect(kept.report.batchNormsFolded).toBe(0);
    expect(opCounts(kept.model).BatchNormalization).toBe(3);
    const matmulOnly = await quantize(convBnModel(), { mode: 'dynamic', opTypes: ['MatMul'], verify: false });
    expect(matmulOnly.report.batchNormsFolded).toBe(0);
  });
});
