// Choosing nodes: op types, explicit lists, exclusions, first/last layer kept in float.
import { buildMlp } from '../../lib/onnx';
import { quantize } from '../../lib/quantize';

const model = () => buildMlp({ inputSize: 16, hidden: [16, 16, 16], outputSize: 4 });
const names = (list: { node: string }[]) => list.map((n) => n.node);

describe('node selection', () => {
  const matmuls = model().graph.node.filter((n) => n.opType === 'MatMul').map((n) => n.name);

  it('quantizes only the listed nodes and reports the others', async () => {
    const { report } = await quantize(model(), { mode: 'dynamic', nodes: [matmuls[1]], verify: false });
    expect(names(report.quantized)).toEqual([matmuls[1]]);
    expect(report.skipped.map((s) => s.detail)).toEqual(Array(3).fill('not among the requested nodes'));
  });

  it('matches nodes by first output name too, and honours exclusions', async () => {
    const firstOutput = model().graph.node.find((n) => n.name === matmuls[0])?.output[0] as string;
    const { report } = await quantize(model(), { mode: 'dynamic', exclude: [firstOutput, matmuls[2]], verify: false });
    expect(names(report.quantized)).toEqual([matmuls[1], matmuls[3]]);
    expect(report.skipped).toEqual([
      expect.objectContaining({ node: matmuls[0], detail: 'excluded' }),
      expect.objectContaining({ node: matmuls[2], detail: 'excluded' }),
    ]);
  });

  it('keeps the first and last quantizable layers in float on request', async () => {
    const { report } = await quantize(model(), { mode: 'weight-only', bits: 8, keepFirst: true, keepLast: true, verify: false });
    expect(names(report.quantized)).toEqual([matmuls[1], matmuls[2]]);
    expect(report.skipped.map((s) => s.detail)).toEqual(['kept in float (first layer)', 'kept in float (last layer)']);
  });

  it('leaves op types that were not asked for alone', async () => {
    const { model: result, report } = await quantize(model(), { mode: 'dynamic', opTypes: ['Gemm'], verify: false });
    expect(report.quantized).toEqual([]);
    expect(report.opset.raised).toBe(false);
    expect(result.graph.node.filter((n) => n.opType === 'MatMul')).toHaveLength(4);
  });

  it('refuses unknown node names, unsupported op types and bad option values', async () => {
    await expect(quantize(model(), { mode: 'dynamic', nodes: ['nope'] })).rejects.toThrow('nodes: no node named "nope"');
    await expect(quantize(model(), { mode: 'static', opTypes: ['Gather'] })).rejects.toThrow(/static mode cannot quantize Gather/);
    await expect(quantize(model(), { mode: 'weight-only', blockSize: 48 })).rejects.toThrow(/power of two/);
    await expect(quantize(model(), { mode: 'static', format: 'qoperator' })).rejects.toThrow(/QDQ/);
    await expect(quantize(model(), { mode: 'fast' as 'dynamic' })).rejects.toThrow(/mode must be/);
  });
});
