import { inspectModel } from '../../lib/inspect/inspect';
import { buildConvNet, buildIfModel, buildMlp, buildTransformerBlock } from '../../lib/onnx';

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
