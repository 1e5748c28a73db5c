// buildBertEncoder writes what torch.onnx.export writes. The expected node sequences and op counts
// below are copied from shared/exporter-graphs/bert-style-encoder-opset{14,17}.txt (PyTorch 1.13,
// 2 layers, hidden 64, 4 heads, ffn 256, vocab 500, 128 positions, 3 labels), where both layers
// list the same op sequence.
import { buildBertEncoder, getAttribute, serializeModel, type Model, type proto } from '../../lib/onnx';

const ops = (list: string): string[] => list.split(/\s+/).filter(Boolean);

const LAYER_NORM = {
  17: 'LayerNormalization',
  14: 'ReduceMean Sub Constant Pow ReduceMean Constant Add Sqrt Div Mul Add',
};
const EMBEDDINGS = 'Shape Constant Gather Cast Constant Constant Range Constant Constant Unsqueeze Gather Gather Add Shape ConstantOfShape Gather Add';
const MASK = 'Constant Unsqueeze Constant Unsqueeze Cast Constant Sub Constant Mul';
const SHAPE_CHAIN = 'Shape Constant Gather Shape Constant Gather Constant Unsqueeze Constant Unsqueeze';
const layer = (ln: string): string => `
  MatMul Add ${SHAPE_CHAIN} Constant Constant Concat Reshape Transpose
  MatMul Add ${SHAPE_CHAIN} Constant Constant Concat Reshape
  MatMul Add ${SHAPE_CHAIN} Constant Constant Concat Reshape Transpose
  Transpose MatMul Constant Div Add Softmax MatMul Transpose ${SHAPE_CHAIN} Constant Concat Reshape
  MatMul Add Add ${ln} MatMul Add Constant Div Erf Constant Add Mul Constant Mul MatMul Add Add ${ln}`;
const HEAD = 'Gather Gemm Tanh Gemm';
const fileSequence = (opset: 14 | 17): string[] =>
  ops(`${EMBEDDINGS} ${LAYER_NORM[opset]} ${MASK} ${layer(LAYER_NORM[opset])} ${layer(LAYER_NORM[opset])} ${HEAD}`);

const FILE_COUNTS = {
  17: { Add: 22, Cast: 2, Concat: 8, Constant: 63, ConstantOfShape: 1, Div: 4, Erf: 2, Gather: 21, Gemm: 2, LayerNormalization: 5, MatMul: 16, Mul: 5, Range: 1, Reshape: 8, Shape: 18, Softmax: 2, Sub: 1, Tanh: 1, Transpose: 8, Unsqueeze: 19 },
  14: { Add: 32, Cast: 2, Concat: 8, Constant: 73, ConstantOfShape: 1, Div: 9, Erf: 2, Gather: 21, Gemm: 2, MatMul: 16, Mul: 10, Pow: 5, Range: 1, ReduceMean: 10, Reshape: 8, Shape: 18, Softmax: 2, Sqrt: 5, Sub: 6, Tanh: 1, Transpose: 8, Unsqueeze: 19 },
};

const opTypes = (model: Model): string[] => model.graph.node.map((n) => n.opType);
const countOps = (model: Model): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const op of opTypes(model)) counts[op] = (counts[op] ?? 0) + 1;
  return counts;
};
const nodesOf = (model: Model, op: string) => model.graph.node.filter((n) => n.opType === op);
/** The values of the Constant node that writes `value`. */
const constantValues = (model: Model, value: string): number[] => {
  const node = model.producer(value)!.node;
  expect(node.opType).toBe('Constant');
  return Array.from(model.tensorValues(getAttribute(node, 'value') as proto.TensorProto), Number);
};
const shapes = (model: Model, prefix: string): number[][] =>
  model.graph.initializer.filter((t) => t.name.startsWith(prefix)).map((t) => t.dims.map(Number));

describe.each([17, 14] as const)('buildBertEncoder with the exported file configuration, opset %i', (opset) => {
  const model = buildBertEncoder({ opset });

  test('has the exported file\'s nodes in the file\'s order and its op counts', () => {
    expect(opTypes(model)).toEqual(fileSequence(opset));
    expect(countOps(model)).toEqual(FILE_COUNTS[opset]);
    expect(model.opsetVersion()).toBe(opset);
  });

  test('has the exported interface and parameters', () => {
    expect(model.inputs.map((v) => [v.name, v.dtype, v.dims])).toEqual([
      ['input_ids', 'int64', ['batch', 'sequence']],
      ['attention_mask', 'int64', ['batch', 'sequence']],
    ]);
    expect(model.outputs.map((v) => [v.name, v.dtype, v.dims])).toEqual([['logits', 'float32', ['batch', 3]]]);
    // Linear weights are stored transposed for MatMul, per layer q, k, v, o, f1, f2.
    const perLayer = [[64, 64], [64, 64], [64, 64], [64, 64], [64, 256], [256, 64]];
    expect(shapes(model, 'onnx::MatMul_')).toEqual([...perLayer, ...perLayer]);
    expect(shapes(model, 'tok.')).toEqual([[500, 64]]);
    expect(shapes(model, 'pos.')).toEqual([[128, 64]]);
    expect(shapes(model, 'typ.')).toEqual([[2, 64]]);
    expect(shapes(model, 'pool.')).toEqual([[64, 64], [64]]);
    expect(shapes(model, 'cls.')).toEqual([[3, 64], [3]]);
  });

  test('writes small values as Constant nodes and every Reshape target through Shape/Gather/Concat', () => {
    for (const t of model.graph.initializer) expect(t.dims.length).toBeGreaterThan(0);
    for (const reshape of nodesOf(model, 'Reshape')) {
      expect(model.producer(reshape.input[1])?.node.opType).toBe('Concat');
      expect(getAttribute(reshape, 'allowzero')).toBe(0);
    }
    const perms = nodesOf(model, 'Transpose').map((n) => getAttribute(n, 'perm'));
    expect(perms).toEqual(Array(2).fill([[0, 2, 1, 3], [0, 2, 1, 3], [0, 2, 3, 1], [0, 2, 1, 3]]).flat());
  });

  test('adds biases first, as Add(bias, MatMul)', () => {
    const initializers = new Set(model.initializerNames());
    const biasAdds = nodesOf(model, 'Add').filter((n) => model.producer(n.input[1])?.node.opType === 'MatMul');
    expect(biasAdds).toHaveLength(12);
    for (const add of biasAdds) expect(initializers.has(add.input[0]) && add.input[0].endsWith('.bias')).toBe(true);
  });

  test('adds one mask, (1 - mask) * -10000, to every layer\'s scaled scores', () => {
    const scoreAdds = nodesOf(model, 'Softmax').map((s) => model.producer(s.input[0])!.node);
    const masks = new Set(scoreAdds.map((add) => add.input[1]));
    expect(masks.size).toBe(1);
    const mul = model.producer([...masks][0])!.node;
    expect(mul.opType).toBe('Mul');
    expect(constantValues(model, mul.input[1])).toEqual([-10000]);
    for (const add of scoreAdds) expect(model.producer(add.input[0])?.node.opType).toBe('Div');
  });
});

describe('buildBertEncoder opsets', () => {
  const attrNames = (model: Model, op: string) => nodesOf(model, op).map((n) => n.attribute.map((a) => a.name).sort().join(','));

  test.each([11, 12])('opset %i: Unsqueeze axes are an attribute, Softmax names the last axis, Reshape has no allowzero', (opset) => {
    const model = buildBertEncoder({ opset });
    for (const n of nodesOf(model, 'Unsqueeze')) expect([n.input.length, attrNames(model, 'Unsqueeze')[0]]).toEqual([1, 'axes']);
    for (const n of nodesOf(model, 'Softmax')) expect(getAttribute(n, 'axis')).toBe(3);
    expect(new Set(attrNames(model, 'Reshape'))).toEqual(new Set(['']));
    // The 19 Unsqueeze axes Constants of opset 13+ are gone.
    expect(countOps(model).Constant).toBe(FILE_COUNTS[14].Constant - 19);
  });

  test('opset 13: Unsqueeze axes are inputs, Reshape has no allowzero (it arrived in 14)', () => {
    const model = buildBertEncoder({ opset: 13 });
    for (const n of nodesOf(model, 'Unsqueeze')) expect([n.input.length, n.attribute.length]).toEqual([2, 0]);
    for (const n of nodesOf(model, 'Softmax')) expect(getAttribute(n, 'axis')).toBe(-1);
    expect(new Set(attrNames(model, 'Reshape'))).toEqual(new Set(['']));
    expect(countOps(model)).toEqual(FILE_COUNTS[14]);
  });

  test.each([15, 16])('opset %i decomposes LayerNorm like opset 14', (opset) => {
    expect(opTypes(buildBertEncoder({ opset }))).toEqual(fileSequence(14));
  });

  test.each([10, 18, 14.5])('opset %p is refused', (opset) => {
    expect(() => buildBertEncoder({ opset })).toThrow(RangeError);
  });
});

describe('buildBertEncoder options', () => {
  test('sequence output ends at the last LayerNorm, named last_hidden_state, without the head', () => {
    const model = buildBertEncoder({ output: 'sequence', hidden: 32, heads: 2, ffn: 64 });
    expect(model.outputs.map((v) => [v.name, v.dims])).toEqual([['last_hidden_state', ['batch', 'sequence', 32]]]);
    expect(model.producer('last_hidden_state')?.node.opType).toBe('LayerNormalization');
    const counts = countOps(model);
    expect([counts.Gemm, counts.Tanh]).toEqual([undefined, undefined]);
    // The head's CLS index Constant and Gather go with it.
    expect([counts.Constant, counts.Gather]).toEqual([FILE_COUNTS[17].Constant - 1, FILE_COUNTS[17].Gather - 1]);
  });

  test('tokenTypes takes token_type_ids instead of tracing zeros', () => {
    const model = buildBertEncoder({ tokenTypes: true });
    expect(model.inputs.map((v) => v.name)).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
    expect(countOps(model).ConstantOfShape).toBeUndefined();
    expect(countOps(model).Shape).toBe(FILE_COUNTS[17].Shape - 1);
    expect(model.consumers('token_type_ids').map((r) => r.node.input[0])).toEqual(['typ.weight']);
  });

  test('layer count, sizes and fixed dims', () => {
    const model = buildBertEncoder({ layers: 3, hidden: 48, heads: 6, ffn: 96, vocab: 30, maxPositions: 16, numLabels: 5, batch: 2, sequence: 9 });
    const perLayer = (op: string) => (countOps(model)[op] - (op === 'LayerNormalization' ? 1 : 0)) / 3;
    expect([perLayer('MatMul'), perLayer('Softmax'), perLayer('LayerNormalization'), perLayer('Reshape')]).toEqual([8, 1, 2, 4]);
    expect(model.inputs.map((v) => v.dims)).toEqual([[2, 9], [2, 9]]);
    expect(model.outputs[0].dims).toEqual([2, 5]);
    const headDims = nodesOf(model, 'Concat').filter((n) => n.input.length === 4)
      .map((n) => n.input.slice(2).flatMap((c) => constantValues(model, c)));
    expect(new Set(headDims.map((d) => d.join('x')))).toEqual(new Set(['6x8']));
    const scales = nodesOf(model, 'Div').filter((n) => model.producer(n.input[0])?.node.opType === 'MatMul')
      .flatMap((n) => constantValues(model, n.input[1]));
    expect(scales).toEqual(Array(3).fill(Math.fround(Math.sqrt(8))));
  });

  test('refuses sizes it cannot build', () => {
    expect(() => buildBertEncoder({ hidden: 30, heads: 4 })).toThrow(/not divisible/);
    expect(() => buildBertEncoder({ sequence: 129 })).toThrow(/maxPositions/);
    expect(() => buildBertEncoder({ layers: 0 })).toThrow(/layers/);
  });

  test('weights are deterministic in the seed', () => {
    const bytes = (seed: number) => Buffer.from(serializeModel(buildBertEncoder({ seed })));
    expect(bytes(3).equals(bytes(3))).toBe(true);
    expect(bytes(3).equals(bytes(4))).toBe(false);
    const a = buildBertEncoder({ seed: 3 });
    const b = buildBertEncoder({ seed: 4 });
    for (const name of a.initializerNames()) {
      const [wa, wb] = [a.initializer(name)!.data as Float32Array, b.initializer(name)!.data as Float32Array];
      expect(wa.some((v, i) => v !== wb[i])).toBe(true);
    }
  });
});
