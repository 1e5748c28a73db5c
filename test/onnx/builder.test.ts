import * as ort from 'onnxruntime-node';
import {
  attr, buildConvNet, buildIfModel, buildMlp, buildTransformerBlock, GraphBuilder, AttrType, serializeModel,
} from '../../lib/onnx';
import { floatInput, runOrt } from './helpers';

function stats(t: ort.Tensor): { mean: number; std: number; finite: boolean } {
  const data = t.data as Float32Array;
  let sum = 0;
  let sq = 0;
  let finite = true;
  for (const v of data) {
    sum += v;
    sq += v * v;
    finite &&= Number.isFinite(v);
  }
  const mean = sum / data.length;
  return { mean, std: Math.sqrt(sq / data.length - mean * mean), finite };
}

describe('GraphBuilder', () => {
  test('builds a valid two-node model that onnxruntime runs', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', ['batch', 2]);
    const w = g.initializer('w', new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
    g.output(g.node('Relu', [g.node('MatMul', [x, w])], ['y']), 'float32', ['batch', 3]);
    const model = g.build();
    expect(model.opsetVersion()).toBe(21);
    expect(model.irVersion).toBe(10);
    const out = await runOrt(model, { x: new ort.Tensor('float32', new Float32Array([1, 1, -1, -1]), [2, 2]) });
    expect(Array.from(out.y.data as Float32Array)).toEqual([5, 7, 9, 0, 0, 0]);
  });

  test('encodes every attribute kind', () => {
    const g = new GraphBuilder();
    const body = g.subgraph('body');
    g.input('x', 'float32', [1]);
    g.node('Custom', ['x'], ['y'], {
      i: 3, f: 0.5, forcedFloat: attr.float(1), s: 'text', ints: [1, 2], floats: [0.5, 1.5], strings: ['a', 'b'],
      big: 2n ** 40n, g: body.buildGraph(),
    }, 'test.domain');
    g.output('y', 'float32', [1]);
    const model = g.build({ validate: true });
    const attrs = new Map(model.graph.node[0].attribute.map((a) => [a.name, a]));
    expect(attrs.get('i')?.type).toBe(AttrType.INT);
    expect(attrs.get('f')?.type).toBe(AttrType.FLOAT);
    expect(attrs.get('forcedFloat')?.type).toBe(AttrType.FLOAT);
    expect(attrs.get('s')?.type).toBe(AttrType.STRING);
    expect(attrs.get('ints')?.type).toBe(AttrType.INTS);
    expect(attrs.get('floats')?.type).toBe(AttrType.FLOATS);
    expect(attrs.get('strings')?.type).toBe(AttrType.STRINGS);
    expect(attrs.get('big')?.i).toBe(2n ** 40n);
    expect(attrs.get('g')?.type).toBe(AttrType.GRAPH);
    expect(model.opsetVersion('test.domain')).toBe(1);
  });

  test('refuses a name used twice', () => {
    const g = new GraphBuilder();
    g.input('x', 'float32', [1]);
    expect(() => g.initializer('x', new Float32Array(1), [1])).toThrow(/already used/);
  });

  test('refuses data that does not match its shape', () => {
    const g = new GraphBuilder();
    expect(() => g.initializer('w', new Float32Array(5), [2, 3])).toThrow(RangeError);
  });
});

describe('ready-made models', () => {
  test('buildMlp gives [batch, outputSize] with sane activations, deterministically', async () => {
    const model = buildMlp({ inputSize: 16, hidden: [32, 32], outputSize: 10, seed: 7 });
    const again = buildMlp({ inputSize: 16, hidden: [32, 32], outputSize: 10, seed: 7 });
    expect(serializeModel(again)).toEqual(serializeModel(model));
    expect(serializeModel(buildMlp({ inputSize: 16, hidden: [32, 32], outputSize: 10, seed: 8 }))).not.toEqual(serializeModel(model));
    const out = await runOrt(model, { input: floatInput([5, 16]) });
    expect(out.output.dims).toEqual([5, 10]);
    const s = stats(out.output);
    expect(s.finite).toBe(true);
    expect(s.std).toBeGreaterThan(0.05);
    expect(s.std).toBeLessThan(10);
  });

  test('buildTransformerBlock keeps [batch, seq, hidden]', async () => {
    const model = buildTransformerBlock({ seq: 8, hidden: 32, heads: 4, ffn: 64, seed: 1, batch: 'batch' });
    const ops = new Set(model.nodes().map((r) => r.node.opType));
    for (const op of ['MatMul', 'Add', 'LayerNormalization', 'Softmax', 'Erf', 'Reshape', 'Transpose']) expect(ops.has(op)).toBe(true);
    const out = await runOrt(model, { input: floatInput([2, 8, 32]) });
    expect(out.output.dims).toEqual([2, 8, 32]);
    const s = stats(out.output);
    expect(s.finite).toBe(true);
    expect(s.std).toBeGreaterThan(0.1);
    expect(s.std).toBeLessThan(10);
  });

  test('buildConvNet classifies into [batch, classes]', async () => {
    const model = buildConvNet({ channels: 3, size: 16, classes: 5, seed: 2 });
    const out = await runOrt(model, { input: floatInput([1, 3, 16, 16]) });
    expect(out.output.dims).toEqual([1, 5]);
    expect(stats(out.output).finite).toBe(true);
  });

  test.each([false, true])('buildIfModel (nested=%p) takes both branches', async (nested) => {
    const model = buildIfModel({ nested });
    const x = new ort.Tensor('float32', new Float32Array([1, 2, 3, 4]), [4]);
    const yes = await runOrt(model, { cond: new ort.Tensor('bool', new Uint8Array([1]), []), x });
    const no = await runOrt(model, { cond: new ort.Tensor('bool', new Uint8Array([0]), []), x });
    expect(Array.from(yes.y.data as Float32Array)).toEqual([4, 6, 8, 10]);
    expect(Array.from(no.y.data as Float32Array)).toEqual([3, 6, 9, 12]);
  });
});
