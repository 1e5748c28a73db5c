import { inspectModel } from '../../lib/inspect/inspect';
import { buildConvNet, buildIfModel, buildMlp, buildTransformerBlock, GraphBuilder, type Model } from '../../lib/onnx';
import { quantize, type QuantizeOptions } from '../../lib/quantize';

describe('inspectModel', () => {
  test('MLP: op counts, parameters and exact MACs at a chosen batch', () => {
    const report = inspectModel(buildMlp({ inputSize: 64, hidden: [128], outputSize: 10 }), { dims: { batch: 4 } });
    expect(report.opCounts).toEqual({ Add: 2, MatMul: 2, Relu: 1 });
    expect(report.parameters.count).toBe(64 * 128 + 128 + 128 * 10 + 10);
    expect(report.parameters.byDtype.float32.bytes).toBe(4 * report.parameters.count);
    expect(report.macs).toMatchObject({ total: 4 * (64 * 128 + 128 * 10), counted: 2, unknown: 0 });
    expect(report.inputs).toEqual([{ name: 'input', dtype: 'float32', shape: ['batch', 64] }]);
  });

  test('conv net: Conv MACs through pooling, Gemm MACs', () => {
    const report = inspectModel(buildConvNet({ channels: 3, size: 16, classes: 10, widths: [8, 16] }));
    expect(report.macs.byOp.Conv).toBe(8 * 16 * 16 * 3 * 9 + 16 * 8 * 8 * 8 * 9);
    expect(report.macs.byOp.Gemm).toBe(16 * 10);
    expect(report.macs.unknown).toBe(0);
  });

  test('transformer block: projections, attention and feed-forward MACs', () => {
    const [seq, hidden, heads, ffn] = [32, 256, 4, 1024];
    const report = inspectModel(buildTransformerBlock({ seq, hidden, heads, ffn }));
    const projections = 4 * seq * hidden * hidden;
    const attention = 2 * heads * seq * seq * (hidden / heads);
    const feedForward = 2 * seq * hidden * ffn;
    expect(report.macs.total).toBe(projections + attention + feedForward);
    expect(report.opCounts.LayerNormalization).toBe(2);
  });

  test('If bodies are counted and listed as subgraphs', () => {
    const model = buildIfModel();
    const report = inspectModel(model);
    expect(report.opCounts.If).toBe(1);
    expect(report.subgraphs.map((s) => s.path)).toEqual(expect.arrayContaining([expect.stringMatching(/then_branch$/), expect.stringMatching(/else_branch$/)]));
    const inBodies = report.subgraphs.reduce((t, s) => t + s.nodes, 0);
    expect(inBodies).toBeGreaterThan(0);
    expect(report.nodes).toBe(model.graph.node.length + inBodies);
    expect(Object.values(report.opCounts).reduce((a, b) => a + b, 0)).toBe(report.nodes);
  });
});

describe('MACs survive quantization', () => {
  const quick = { latencyRuns: 0, verifySamples: 1 } as const;
  // With the quantized op the MACs are counted under (QDQ forms keep MatMul and Conv, their weights behind DequantizeLinear).
  const modes: [string, QuantizeOptions, RegExp][] = [
    ['dynamic (QOperator)', { mode: 'dynamic', format: 'qoperator', ...quick }, /^(MatMulInteger|ConvInteger)$/],
    ['dynamic (QDQ)', { mode: 'dynamic', format: 'qdq', ...quick }, /^(MatMul|Conv)$/],
    ['static (QDQ)', { mode: 'static', format: 'qdq', randomSamples: 2, ...quick }, /^(MatMul|Conv)$/],
    ['weight-only 4-bit', { mode: 'weight-only', bits: 4, ...quick }, /^MatMulNBits$/],
    ['weight-only 8-bit', { mode: 'weight-only', bits: 8, ...quick }, /^(MatMul|Conv)$/],
  ];
  test('QLinearMatMul and QLinearConv (as onnxruntime\'s quantizer writes them) count their float ops\' MACs', () => {
    const g = new GraphBuilder();
    const scale = g.initializer('scale', new Float32Array([0.1]), []);
    const zero = g.initializer('zero', new Uint8Array([128]), []);
    const a = g.input('a', 'uint8', [4, 64]);
    const b = g.initializer('b', new Uint8Array(64 * 10), [64, 10]);
    g.output(g.node('QLinearMatMul', [a, scale, zero, b, scale, zero, scale, zero], ['y']), 'uint8', [4, 10]);
    const x = g.input('x', 'uint8', [1, 3, 8, 8]);
    const w = g.initializer('w', new Uint8Array(4 * 3 * 3 * 3), [4, 3, 3, 3]);
    g.output(g.node('QLinearConv', [x, scale, zero, w, scale, zero, scale, zero], ['z']), 'uint8');
    const macs = inspectModel(g.build()).macs;
    expect(macs).toMatchObject({ unknown: 0, byOp: { QLinearMatMul: 4 * 64 * 10, QLinearConv: 4 * 6 * 6 * 3 * 3 * 3 } });
  });

  const models: [string, () => Model][] = [
    ['an MLP', () => buildMlp({ inputSize: 64, hidden: [128], outputSize: 10, seed: 1 })],
    ['a conv net', () => buildConvNet({ channels: 3, size: 16, classes: 10, widths: [8, 16], seed: 1 })],
  ];
  test.each(models)('%s: every quantized form counts the MACs of the float model', async (_name, make) => {
    const float = inspectModel(make()).macs;
    expect(float.unknown).toBe(0);
    for (const [mode, options, ops] of modes) {
      const { model } = await quantize(make(), options);
      const macs = inspectModel(model).macs;
      expect({ mode, total: macs.total, unknown: macs.unknown }).toEqual({ mode, total: float.total, unknown: 0 });
      expect({ mode, quantizedOpCounted: Object.keys(macs.byOp).some((op) => ops.test(op)) }).toEqual({ mode, quantizedOpCounted: true });
    }
  });
});
