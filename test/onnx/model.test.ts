import { create, type MessageInitShape } from '@bufbuild/protobuf';
import {
  buildIfModel, buildMlp, buildTransformerBlock, float32ToFloat16, GraphBuilder, loadModel, makeNode, makeTensor,
  Model, packInt4, proto, serializeModel, unpackInt4, type TypedArray,
} from '../../lib/onnx';

const T = proto.TensorProto_DataType;

function tensorWith(init: MessageInitShape<typeof proto.TensorProtoSchema>): proto.TensorProto {
  return create(proto.TensorProtoSchema, init);
}

describe('Model graph queries', () => {
  test('nodes() walks If bodies right after their node, with graph paths', () => {
    const model = buildIfModel({ nested: true });
    const refs = model.nodes();
    const outer = model.graph.node[0].name;
    const inner = model.graph.node[0].attribute[0].g!.node[1].name;
    expect(refs.map((r) => `${r.graphPath}:${r.node.opType}`)).toEqual([
      'main:If',
      `main/${outer}.then_branch:Add`,
      `main/${outer}.then_branch:If`,
      `main/${outer}.then_branch/${inner}.then_branch:Mul`,
      `main/${outer}.then_branch/${inner}.else_branch:Identity`,
      `main/${outer}.else_branch:Mul`,
    ]);
    expect(model.graphs().map((g) => g.path)).toHaveLength(5);
  });

  test('nodes() is topological even when the file order is not, counting outer reads of bodies', () => {
    const g = new GraphBuilder();
    g.input('cond', 'bool', []);
    g.input('x', 'float32', [2]);
    const body = g.subgraph('body');
    body.output(body.node('Identity', ['doubled'], ['out']), 'float32', [2]);
    const other = g.subgraph('other');
    other.output(other.node('Identity', ['x'], ['out2']), 'float32', [2]);
    // The If reads "doubled" only from inside its body; it is listed before the node producing it.
    g.node('If', ['cond'], ['y'], { then_branch: body.buildGraph(), else_branch: other.buildGraph() });
    g.node('Add', ['x', 'x'], ['doubled']);
    g.output('y', 'float32', [2]);
    const model = g.build();
    const main = model.nodes().filter((r) => r.graphPath === 'main').map((r) => r.node.opType);
    expect(main).toEqual(['Add', 'If']);
  });

  test('producer and consumers, including reads from inside bodies', () => {
    const model = buildIfModel();
    expect(model.producer('y')?.node.opType).toBe('If');
    expect(model.producer('x')).toBeUndefined();
    const readers = model.consumers('x').map((r) => `${r.graphPath}:${r.node.opType}`);
    const ifName = model.graph.node[0].name;
    expect(readers).toEqual([`main/${ifName}.then_branch:Add`, `main/${ifName}.else_branch:Mul`]);
    expect(model.consumers('nothing')).toEqual([]);
  });

  test('inputs exclude initializers listed as graph inputs (IR < 4 style)', () => {
    const model = buildMlp({ inputSize: 4, hidden: [], outputSize: 2 });
    model.graph.input.push(create(proto.ValueInfoProtoSchema, { name: 'fc0.weight' }));
    expect(model.inputs.map((i) => i.name)).toEqual(['input']);
    expect(model.inputs[0]).toMatchObject({ dtype: 'float32', dims: ['batch', 4], kind: 'tensor' });
    expect(model.outputs[0]).toMatchObject({ name: 'output', dims: ['batch', 2] });
    expect(model.valueInfo('output')?.dtype).toBe('float32');
    expect(model.valueInfo('nope')).toBeUndefined();
  });

  test('opsets', () => {
    const model = buildMlp({ inputSize: 4, hidden: [], outputSize: 2 });
    expect(model.opsetVersion()).toBe(21);
    expect(model.opsetVersion('ai.onnx')).toBe(21);
    expect(model.opsetVersion('com.microsoft')).toBeUndefined();
    model.setOpset('com.microsoft', 1);
    model.setOpset('', 19);
    expect(model.opsetVersion('com.microsoft')).toBe(1);
    expect(model.opsetVersion()).toBe(19);
  });
});

describe('Model edits', () => {
  test('add, replace and remove nodes; uniqueName avoids every used name', () => {
    const model = buildMlp({ inputSize: 4, hidden: [8], outputSize: 2 });
    const relu = model.nodes().find((r) => r.node.opType === 'Relu')!.node;
    const sigmoid = makeNode('Sigmoid', relu.input, relu.output, {}, { name: model.uniqueName('sigmoid') });
    model.replaceNode(relu, sigmoid);
    expect(model.nodes().map((r) => r.node.opType)).toEqual(['MatMul', 'Add', 'Sigmoid', 'MatMul', 'Add']);
    expect(model.producer(relu.output[0])?.node).toBe(sigmoid);
    expect(() => model.addNode(makeNode('Relu', ['input'], [relu.output[0]]))).toThrow(/already produced/);
    const name = model.uniqueName('output');
    expect(name).toBe('output_1');
    expect(model.uniqueName('output')).toBe('output_2');
    model.addNode(makeNode('Neg', ['output'], [name]));
    expect(model.consumers('output').map((r) => r.node.opType)).toEqual(['Neg']);
    model.removeNode(sigmoid);
    expect(model.producer(relu.output[0])).toBeUndefined();
    expect(() => model.removeNode(sigmoid)).toThrow(/not part of this model/);
  });

  test('setInitializer views the given array and updates graph-input entries; removeInitializer', () => {
    const model = buildMlp({ inputSize: 4, hidden: [], outputSize: 2 });
    const data = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]);
    model.setInitializer('fc0.weight', data, [4, 2]);
    const got = model.initializer('fc0.weight')!;
    expect(got.data).toEqual(data);
    expect((got.data as Float32Array).buffer).toBe(data.buffer);
    model.setInitializer('half', float32ToFloat16([1, 2]), [2], 'float16');
    expect(model.initializer('half')!.dtype).toBe('float16');
    model.graph.input.push(create(proto.ValueInfoProtoSchema, { name: 'half' }));
    model.setInitializer('half', new Float32Array(3), [3]);
    expect(model.valueInfo('half')).toMatchObject({ dtype: 'float32', dims: [3] });
    expect(model.removeInitializer('half')).toBe(true);
    expect(model.graph.input.map((i) => i.name)).toEqual(['input']);
    expect(model.removeInitializer('half')).toBe(false);
  });

  test('clone is independent in structure and shares tensor bytes unless asked to copy', () => {
    const model = buildTransformerBlock({ seq: 2, hidden: 8, heads: 2, ffn: 16 });
    const copy = model.clone();
    expect(serializeModel(copy)).toEqual(serializeModel(model));
    copy.graph.node.pop();
    copy.setOpset('', 18);
    expect(model.graph.node.length).toBe(copy.graph.node.length + 1);
    expect(model.opsetVersion()).toBe(21);
    expect(copy.graph.initializer[0].rawData.buffer).toBe(model.graph.initializer[0].rawData.buffer);
    const deep = model.clone({ copyTensorData: true });
    expect(deep.graph.initializer[0].rawData.buffer).not.toBe(model.graph.initializer[0].rawData.buffer);
    expect(serializeModel(deep)).toEqual(serializeModel(model));
  });
});

describe('initializer decoding', () => {
  function modelWith(...tensors: proto.TensorProto[]): Model {
    const g = new GraphBuilder();
    g.input('x', 'float32', [1]);
    g.output(g.node('Identity', ['x']), 'float32', [1]);
    const model = g.build();
    model.graph.initializer.push(...tensors);
    return model;
  }

  test.each<[string, proto.TensorProto, string, unknown[]]>([
    ['float_data', tensorWith({ name: 't', dataType: T.FLOAT, dims: [2n], floatData: [1.5, -2] }), 'Float32Array', [1.5, -2]],
    ['double_data', tensorWith({ name: 't', dataType: T.DOUBLE, dims: [2n], doubleData: [1.25, 3] }), 'Float64Array', [1.25, 3]],
    ['int64_data', tensorWith({ name: 't', dataType: T.INT64, dims: [2n], int64Data: [-(2n ** 40n), 7n] }), 'BigInt64Array', [-(2n ** 40n), 7n]],
    ['int32_data as int8', tensorWith({ name: 't', dataType: T.INT8, dims: [3n], int32Data: [-1, 5, 127] }), 'Int8Array', [-1, 5, 127]],
    ['int32_data as float16 bits', tensorWith({ name: 't', dataType: T.FLOAT16, dims: [1n], int32Data: [0x3c00] }), 'Uint16Array', [0x3c00]],
    ['int32_data as bool', tensorWith({ name: 't', dataType: T.BOOL, dims: [2n], int32Data: [1, 0] }), 'Uint8Array', [1, 0]],
    ['uint64_data as uint32', tensorWith({ name: 't', dataType: T.UINT32, dims: [1n], uint64Data: [4000000000n] }), 'Uint32Array', [4000000000]],
    ['uint64_data', tensorWith({ name: 't', dataType: T.UINT64, dims: [1n], uint64Data: [2n ** 63n] }), 'BigUint64Array', [2n ** 63n]],
    ['int4 packed in int32_data', tensorWith({ name: 't', dataType: T.INT4, dims: [3n], int32Data: [0xf1, 0x07] }), 'Uint8Array', [0xf1, 0x07]],
    ['string_data', tensorWith({ name: 't', dataType: T.STRING, dims: [2n], stringData: [new TextEncoder().encode('hé'), new Uint8Array(0)] }), 'Array', ['hé', '']],
  ])('%s', (_label, tensor, kind, values) => {
    const model = modelWith(tensor);
    const got = model.initializer('t')!;
    expect(Object.prototype.toString.call(got.data)).toBe(`[object ${kind}]`);
    expect(Array.from(got.data as ArrayLike<unknown>)).toEqual(values);
  });

  test('every raw_data dtype decodes to its typed array', () => {
    const cases: [string, TypedArray, number[]][] = [
      ['float32', new Float32Array([1, -2.5]), [2]],
      ['float64', new Float64Array([1e300]), [1]],
      ['int8', new Int8Array([-128, 127]), [2]],
      ['uint8', new Uint8Array([255]), [1]],
      ['int16', new Int16Array([-3]), [1]],
      ['uint16', new Uint16Array([65535]), [1]],
      ['int32', new Int32Array([-5, 6]), [2]],
      ['uint32', new Uint32Array([1]), [1]],
      ['int64', new BigInt64Array([-1n]), [1]],
      ['uint64', new BigUint64Array([1n]), [1]],
      ['bool', new Uint8Array([1, 0, 1]), [3]],
      ['float16', float32ToFloat16([0.5]), [1]],
      ['bfloat16', new Uint16Array([0x3f80]), [1]],
      ['complex64', new Float32Array([1, 2, 3, 4]), [2]],
      ['int4', packInt4([-8, 7, 3]), [3]],
      ['uint4', new Uint8Array([0x21]), [2]],
      ['float8e4m3fn', new Uint8Array([0x38]), [1]],
    ];
    const tensors = cases.map(([dtype, data, dims]) => makeTensor(dtype, data, dims, dtype));
    const reloaded = loadModel(serializeModel(modelWith(...tensors)));
    for (const [dtype, data, dims] of cases) {
      const t = reloaded.initializer(dtype)!;
      expect(t.dtype).toBe(dtype);
      expect(t.dims).toEqual(dims);
      expect(Object.prototype.toString.call(t.data)).toBe(Object.prototype.toString.call(data));
      expect(t.data).toEqual(data);
    }
    expect(Array.from(unpackInt4(reloaded.initializer('int4')!.data as Uint8Array, 3))).toEqual([-8, 7, 3]);
  });

  test('misaligned raw_data is copied into an aligned array, aligned raw_data is viewed', () => {
    const buffer = new ArrayBuffer(20);
    const misaligned = new Uint8Array(buffer, 1, 8);
    new Float32Array(buffer, 12, 2).set([3, 4]);
    misaligned.set(new Uint8Array(new Float32Array([1, 2]).buffer));
    const a = tensorWith({ name: 'a', dataType: T.FLOAT, dims: [2n], rawData: misaligned });
    const b = tensorWith({ name: 'b', dataType: T.FLOAT, dims: [2n], rawData: new Uint8Array(buffer, 12, 8) });
    const model = modelWith(a, b);
    const da = model.initializer('a')!.data as Float32Array;
    const db = model.initializer('b')!.data as Float32Array;
    expect(Array.from(da)).toEqual([1, 2]);
    expect(da.buffer).not.toBe(buffer);
    expect(Array.from(db)).toEqual([3, 4]);
    expect(db.buffer).toBe(buffer);
  });

  test('makeTensor refuses mismatched arrays', () => {
    expect(() => makeTensor('t', new Float32Array(2), [2], 'float16')).toThrow(/stored in a Uint16Array/);
    expect(() => makeTensor('t', new Uint8Array(1), [3], 'int4')).toThrow(/needs 2/);
    expect(() => makeTensor('t', new Float32Array(1), [-1])).toThrow(RangeError);
  });
});
