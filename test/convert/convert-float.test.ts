// convertFloat on builder models: float16 and bfloat16, keep-io-types, the block list and its options,
// clamping, subgraphs, Constant-style nodes, and the absence of redundant Casts.
import * as ort from 'onnxruntime-node';
import {
  attr, buildIfModel, buildMlp, buildTransformerBlock, DataType, float16ToFloat32, float32ToFloat16, GraphBuilder,
  describeValueInfo, makeTensor, serializeModel, validateModel, type Model,
} from '../../lib/onnx';
import { convertFloat, inferElemTypes } from '../../lib/convert';
import { runOrt as run } from '../onnx/helpers';
import { castNodes, compareInMemory, inputTypesOf, minCosine, redundantCasts } from './helpers';
import type { Feeds } from '../../lib/engine/tensor';

const mlp = () => buildMlp({ inputSize: 16, hidden: [32, 32], outputSize: 10, seed: 3 });
const block = () => buildTransformerBlock({ seq: 8, hidden: 32, heads: 4, ffn: 64, seed: 5 });
const mlpSamples: Feeds[] = [0, 1].map((s) => ({
  input: { type: 'float32', dims: [3, 16], data: Float32Array.from({ length: 48 }, (_, i) => Math.sin(i * 0.7 + s)) },
}));
const blockSamples: Feeds[] = [{ input: { type: 'float32', dims: [1, 8, 32], data: Float32Array.from({ length: 256 }, (_, i) => Math.cos(i * 0.3)) } }];

function initializerTypes(model: Model): number[] {
  return model.graphs().flatMap((g) => g.graph.initializer.map((t) => t.dataType));
}

describe('float16', () => {
  test('keep-io-types: float32 edges, float16 weights, accuracy and size', async () => {
    const source = mlp();
    const { model, report } = convertFloat(source, { dtype: 'float16', keepIoTypes: true });
    validateModel(model);
    expect(model.inputs[0].dtype).toBe('float32');
    expect(model.outputs[0].dtype).toBe('float32');
    expect(new Set(initializerTypes(model))).toEqual(new Set([DataType.FLOAT16]));
    expect(report).toMatchObject({ dtype: 'float16', tensorsConverted: 6, valuesClamped: 0, castsInserted: 2, castsRemoved: 0 });
    expect(report.tensorBytesAfter * 2).toBe(report.tensorBytesBefore);
    expect(serializeModel(model).byteLength / serializeModel(source).byteLength).toBeLessThan(0.6);
    const compare = await compareInMemory(source, model, mlpSamples);
    expect(minCosine(compare)).toBeGreaterThanOrEqual(0.999);
    expect(redundantCasts(model)).toEqual([]);
  });

  test('without keep-io-types the graph takes and returns float16 and runs in onnxruntime', async () => {
    const source = mlp();
    const { model, report } = convertFloat(source);
    expect(model.inputs[0].dtype).toBe('float16');
    expect(model.outputs[0].dtype).toBe('float16');
    expect(report.castsInserted).toBe(0);
    const x = Float32Array.from({ length: 48 }, (_, i) => Math.sin(i * 0.7));
    const reference = (await run(source, { input: new ort.Tensor('float32', x, [3, 16]) })).output.data as Float32Array;
    const half = (await run(model, { input: new ort.Tensor('float16', float32ToFloat16(x), [3, 16]) })).output;
    expect(half.type).toBe('float16');
    const got = float16ToFloat32(half.data as Uint16Array);
    got.forEach((v, i) => expect(Math.abs(v - reference[i])).toBeLessThan(0.02 + 0.01 * Math.abs(reference[i])));
  });

  test('the input model is left unchanged', () => {
    const source = block();
    const before = serializeModel(source);
    convertFloat(source, { keepIoTypes: true });
    expect(Buffer.from(serializeModel(source)).equals(Buffer.from(before))).toBe(true);
  });

  test('converting a converted model again changes nothing', () => {
    for (const keepIoTypes of [true, false]) {
      const once = convertFloat(block(), { keepIoTypes }).model;
      const twice = convertFloat(once, { keepIoTypes });
      expect(twice.report).toMatchObject({ tensorsConverted: 0, castsInserted: 0, castsRemoved: 0 });
      expect(Buffer.from(serializeModel(twice.model)).equals(Buffer.from(serializeModel(once)))).toBe(true);
    }
  });

  test('fragile ops stay float32 behind Casts; the rest runs in float16', async () => {
    const source = block();
    const { model, report } = convertFloat(source, { keepIoTypes: true });
    expect(report.keptOps).toEqual({ LayerNormalization: 2, Softmax: 1 });
    expect(new Set(inputTypesOf(model, 'LayerNormalization'))).toEqual(new Set([DataType.FLOAT]));
    expect(new Set(inputTypesOf(model, 'Softmax'))).toEqual(new Set([DataType.FLOAT]));
    expect(new Set(inputTypesOf(model, 'MatMul'))).toEqual(new Set([DataType.FLOAT16]));
    // LayerNorm scale/bias are read only by a kept op, so they stay float32 rather than round-tripping.
    expect(model.initializerProto('ln1.weight')?.dataType).toBe(DataType.FLOAT);
    expect(redundantCasts(model)).toEqual([]);
    expect(minCosine(await compareInMemory(source, model, blockSamples))).toBeGreaterThanOrEqual(0.999);
  });

  test('defaultBlockList: false converts the fragile ops too', () => {
    const { model, report } = convertFloat(block(), { keepIoTypes: true, defaultBlockList: false });
    expect(report.nodesKept).toBe(0);
    expect(new Set(inputTypesOf(model, 'Softmax'))).toEqual(new Set([DataType.FLOAT16]));
  });

  test('blockOps and blockNodes keep more in float32, with one Cast per value and precision', async () => {
    const source = block();
    const firstMatMul = source.nodes().find((r) => r.node.opType === 'MatMul')!.node.name;
    const { model, report } = convertFloat(source, { keepIoTypes: true, blockOps: ['Erf'], blockNodes: [firstMatMul] });
    expect(report.keptOps).toMatchObject({ Erf: 1, MatMul: 1 });
    const types = inferElemTypes(model);
    const kept = model.nodes().find((r) => r.node.name === firstMatMul)!.node;
    expect(kept.input.map((i) => types.get(i))).toEqual([DataType.FLOAT, DataType.FLOAT]);
    const castSources = castNodes(model).map((r) => `${r.node.input[0]}:${getTo(r.node)}`);
    expect(new Set(castSources).size).toBe(castSources.length);
    expect(redundantCasts(model)).toEqual([]);
    expect(minCosine(await compareInMemory(source, model, blockSamples))).toBeGreaterThanOrEqual(0.999);
  });

  test('consecutive kept ops pass float32 between them without Casts', () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', [4]);
    const w = g.initializer('w', new Float32Array([1, 2, 3, 4]), [4]);
    const y = g.node('Exp', [g.node('Log', [g.node('Relu', [g.node('Mul', [x, w])])])]);
    g.output(g.node('Relu', [y], ['out']), 'float32', [4]);
    const { model } = convertFloat(g.build(), { keepIoTypes: true });
    // x -> fp16, Mul, Relu, -> fp32, Log, Exp, -> fp16, Relu, -> fp32 out
    expect(castNodes(model).map((r) => getTo(r.node))).toEqual([DataType.FLOAT16, DataType.FLOAT, DataType.FLOAT16, DataType.FLOAT]);
    expect(redundantCasts(model)).toEqual([]);
  });

  test('converted nodes stranded between kept ops stay float32 rather than adding Casts', () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', [2, 4]);
    const w1 = g.initializer('w1', new Float32Array(16).fill(0.5), [4, 4]);
    const bias = g.initializer('bias', new Float32Array(4).fill(1), [4]);
    const w2 = g.initializer('w2', new Float32Array(16).fill(0.25), [4, 4]);
    const hidden = g.node('Relu', [g.node('Add', [g.node('MatMul', [x, w1]), bias])]);
    g.output(g.node('Sigmoid', [g.node('MatMul', [hidden, w2])], ['y']), 'float32', [2, 4]);
    const { model, report } = convertFloat(g.build(), { keepIoTypes: true, blockOps: ['MatMul'] });
    expect(report.keptOps).toEqual({ MatMul: 2, Add: 1, Relu: 1 });
    expect(report.nodesKeptBetweenKept).toBe(2);
    expect(model.initializerProto('bias')?.dataType).toBe(DataType.FLOAT);
    // Only the Sigmoid after the last kept MatMul runs in float16: one Cast in, one out.
    expect(castNodes(model).map((r) => getTo(r.node))).toEqual([DataType.FLOAT16, DataType.FLOAT]);
  });

  test('values beyond float16 are clamped and counted; tiny ones underflow and are counted', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', [5]);
    const w = g.initializer('w', new Float32Array([1e6, -1e6, 65504, 1e-9, 0.5]), [5]);
    g.output(g.node('Mul', [x, w], ['y']), 'float32', [5]);
    const { model, report } = convertFloat(g.build(), { keepIoTypes: true });
    expect(report).toMatchObject({ valuesClamped: 2, valuesUnderflowed: 1, valuesConverted: 5 });
    expect(Array.from(float16ToFloat32(model.initializer('w')!.data as Uint16Array))).toEqual([65504, -65504, 65504, 0, 0.5]);
    const out = await run(model, { x: new ort.Tensor('float32', new Float32Array([1, 1, 1, 1, 1]), [5]) });
    expect(Array.from(out.y.data as Float32Array)).toEqual([65504, -65504, 65504, 0, 0.5]);
  });

  test('If bodies are converted, including nested ones and their initializers', async () => {
    const source = buildIfModel({ nested: true });
    const { model } = convertFloat(source, { keepIoTypes: true });
    validateModel(model);
    expect(model.graphs().length).toBe(5);
    expect(new Set(initializerTypes(model))).toEqual(new Set([DataType.FLOAT16]));
    for (const { graph } of model.graphs().slice(1)) {
      for (const output of graph.output) expect(describeValueInfo(output).dtype).toBe('float16');
    }
    for (const cond of [true, false]) {
      const x = new Float32Array([0.5, -1, 2, 3.25]);
      const feeds = { cond: new ort.Tensor('bool', Uint8Array.of(cond ? 1 : 0), []), x: new ort.Tensor('float32', x, [4]) };
      const [want, got] = [await run(source, feeds), await run(model, feeds)];
      expect(Array.from(got.y.data as Float32Array)).toEqual(Array.from(want.y.data as Float32Array));
    }
  });

  test('Constant, ConstantOfShape, Cast to float and schema-float32 inputs (Resize scales)', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', [1, 1, 2, 2]);
    const n = g.input('n', 'int64', [1, 1, 2, 2]);
    const half = g.node('Constant', [], ['half'], { value_float: attr.float(0.5) });
    const ones = g.node('ConstantOfShape', [g.node('Shape', [x])], ['ones'], { value: attr.tensor(makeTensor('', Float32Array.of(1), [1])) });
    const zeros = g.node('ConstantOfShape', [g.node('Shape', [x])], ['zeros']);
    const counted = g.node('Cast', [n], ['counted'], { to: attr.int(DataType.FLOAT) });
    const sum = g.node('Add', [g.node('Mul', [g.node('Add', [x, counted]), half]), g.node('Add', [ones, zeros])]);
    const scales = g.initializer('scales', new Float32Array([1, 1, 2, 2]), [4]);
    g.output(g.node('Resize', [sum, '', scales], ['y']), 'float32', [1, 1, 4, 4]);
    const source = g.build({ opset: 13 });
    const { model } = convertFloat(source, { keepIoTypes: true });
    validateModel(model);
    expect(model.initializerProto('scales')?.dataType).toBe(DataType.FLOAT);
    expect(inputTypesOf(model, 'Resize')[2]).toBe(DataType.FLOAT);
    expect(getTo(model.nodes().find((r) => r.node.output[0] === 'counted')!.node)).toBe(DataType.FLOAT16);
    const feeds = {
      x: new ort.Tensor('float32', new Float32Array([1, 2, 3, 4]), [1, 1, 2, 2]),
      n: new ort.Tensor('int64', BigInt64Array.of(1n, 2n, 3n, 4n), [1, 1, 2, 2]),
    };
    const [want, got] = [await run(source, feeds), await run(model, feeds)];
    expect(Array.from(got.y.data as Float32Array)).toEqual(Array.from(want.y.data as Float32Array));
  });
});

describe('bfloat16', () => {
  test('converts weights; onnxruntime CPU cannot run it; widening back gives the rounding cost', async () => {
    const source = block();
    const { model, report } = convertFloat(source, { dtype: 'bfloat16' });
    validateModel(model);
    expect(report.dtype).toBe('bfloat16');
    expect(initializerTypes(model)).toContain(DataType.BFLOAT16);
    expect(model.inputs[0].dtype).toBe('bfloat16');
    await expect(ort.InferenceSession.create(serializeModel(model))).rejects.toThrow(/implementation|invalid/i);
    const { model: back, report: widened } = convertFloat(model, { dtype: 'float32' });
    expect(widened.tensorsConverted).toBe(report.tensorsConverted);
    expect(initializerTypes(back)).not.toContain(DataType.BFLOAT16);
    expect(castNodes(back)).toEqual([]);
    expect(minCosine(await compareInMemory(source, back, blockSamples))).toBeGreaterThanOrEqual(0.999);
  });

  test('an opset without bfloat16 Casts is refused with the opset that has them', () => {
    expect(() => convertFloat(buildMlp({ inputSize: 4, hidden: [], outputSize: 2 }, { opset: 11 }), { dtype: 'bfloat16' }))
      .toThrow('bfloat16 needs opset 13 or later (Cast has no bfloat16 before it); this model imports opset 11');
  });

  test('values beyond bfloat16 are clamped to its largest finite value', () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', [2]);
    g.output(g.node('Mul', [x, g.initializer('w', new Float32Array([3.4028234e38, -1]), [2])], ['y']), 'float32', [2]);
    const { model, report } = convertFloat(g.build(), { dtype: 'bfloat16' });
    expect(report.valuesClamped).toBe(1);
    expect(Array.from(model.initializer('w')!.data as Uint16Array)).toEqual([0x7f7f, 0xbf80]);
  });
});

test('an unknown dtype is refused', () => {
  expect(() => convertFloat(mlp(), { dtype: 'float8' as never })).toThrow(/float16, bfloat16 or float32/);
});

function getTo(node: { attribute: { name: string; i: bigint }[] }): number {
  return Number(node.attribute.find((a) => a.name === 'to')!.i);
}

