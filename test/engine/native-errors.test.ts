// What the native engine refuses, and how: unsupported ops named at load, 'auto' falling back
// to onnxruntime, bad feeds rejected with a clear error, bad data failing one run only.
import { GraphBuilder } from '../../lib/onnx/builder';
import { buildTransformerBlock } from '../../lib/onnx/models/transformer-block';
import { serializeModel } from '../../lib/onnx/save';
import { NativeEngine } from '../../lib/engine/native/native-engine';
import { NativeEngineUnsupportedError } from '../../lib/engine/native/errors';
import { loadWithEngine } from '../../lib/engine/select';
import { findRealModels } from '../helpers/real-models';
import { loadModel } from '../../lib/onnx/load';
import { floatFeed } from './native-helpers';

function topKModel(): Uint8Array {
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', [1, 8]);
  const k = g.initializer('k', BigInt64Array.of(2n), [1]);
  const relu = g.node('Relu', [x]);
  g.node('TopK', [relu, k], ['values', 'indices'], { axis: -1 });
  g.output('values', 'float32', [1, 2]);
  g.output('indices', 'int64', [1, 2]);
  return serializeModel(g.build({ opset: 17 }));
}

function embeddingModel(): Uint8Array {
  const g = new GraphBuilder();
  const ids = g.input('ids', 'int64', ['batch', 'seq']);
  const table = g.initializer('table', Float32Array.from({ length: 10 * 4 }, (_, i) => i), [10, 4]);
  g.node('Gather', [table, ids], ['embedded'], { axis: 0 });
  g.output('embedded', 'float32', ['batch', 'seq', 4]);
  return serializeModel(g.build({ opset: 17 }));
}

describe('unsupported models', () => {
  test("engine 'native' fails at load naming the op type and the node", async () => {
    const load = new NativeEngine().load(topKModel());
    await expect(load).rejects.toThrow(NativeEngineUnsupportedError);
    await expect(load).rejects.toThrow(/unsupported TopK; nodes: TopK_node_\d+ \(TopK: not supported by the native engine\)/);
    const err = await load.catch((e: NativeEngineUnsupportedError) => e);
    expect((err as NativeEngineUnsupportedError).nodes.map((n) => n.opType)).toEqual(['TopK']);
  });

  test("engine 'auto' runs such a model on onnxruntime and says why", async () => {
    const loaded = await loadWithEngine(topKModel(), 'auto');
    try {
      expect(loaded.engine).toBe('ort');
      expect(loaded.reason).toMatch(/TopK/);
      const out = await loaded.session.run({ x: { type: 'float32', dims: [1, 8], data: Float32Array.from([3, -1, 7, 2, 0, 5, -4, 1]) } });
      expect(Array.from(out.values.data as Float32Array)).toEqual([7, 5]);
    } finally {
      await loaded.session.dispose();
    }
  });

  test("engine 'auto' picks the native engine when it runs every node", async () => {
    const loaded = await loadWithEngine(serializeModel(buildTransformerBlock({ seq: 4, hidden: 32, heads: 2, ffn: 64 })), 'auto');
    try {
      expect(loaded.engine).toBe('native');
    } finally {
      await loaded.session.dispose();
    }
  });

  const real = findRealModels();
  test.each(real.map((m) => [m.name, m.path] as const))("real model %s: 'auto' runs it natively or names only op types the model has", async (_name, file) => {
    const loaded = await loadWithEngine(file, 'auto');
    try {
      if (loaded.engine === 'native') return;
      const named = /unsupported ([^;]+);/.exec(loaded.reason)![1].split(', ');
      const present = new Set(loadModel(file).nodes().map((r) => r.node.opType));
      expect(named.length).toBeGreaterThan(0);
      for (const op of named) expect(present.has(op)).toBe(true);
    } finally {
      await loaded.session.dispose();
    }
  });
});

describe('bad feeds', () => {
  const model = serializeModel(buildTransformerBlock({ seq: 4, hidden: 32, heads: 2, ffn: 64, batch: 'batch' }));
  let session: Awaited<ReturnType<NativeEngine['load']>>;
  beforeAll(async () => { session = await new NativeEngine().load(model); });
  afterAll(async () => { await session.dispose(); });
  const good = () => floatFeed([2, 4, 32], 1);

  test.each([
    ['a missing input', {}, /input "input" is missing/],
    ['an unknown input', { input: floatFeed([1, 4, 32], 1), extra: floatFeed([1], 1) }, /"extra" is not an input/],
    ['a wrong type', { input: { type: 'int32', dims: [1, 4, 32], data: new Int32Array(128) } }, /must be float32, got int32/],
    ['a wrong rank', { input: floatFeed([4, 32], 1) }, /must have rank 3/],
    ['a wrong fixed dim', { input: floatFeed([1, 5, 32], 1) }, /dimension 1 must be 4, got 5/],
    ['data that does not fill the dims', { input: { type: 'float32', dims: [2, 4, 32], data: new Float32Array(10) } }, /has 10 elements, its dims \[2,4,32\] need 256/],
    ['negative dims', { input: { type: 'float32', dims: [-1, 4, 32], data: new Float32Array(0) } }, /invalid dims/],
  ])('%s is refused with a clear error', async (_what, feeds, message) => {
    await expect(session.run(feeds as never)).rejects.toThrow(message);
    // The session still works afterwards.
    const out = await session.run({ input: good() });
    expect(out.output.dims).toEqual([2, 4, 32]);
  });

  test('an index outside the table fails that run with a RangeError, the next run succeeds', async () => {
    const gather = await new NativeEngine().load(embeddingModel());
    try {
      const bad = { ids: { type: 'int64' as const, dims: [1, 3], data: BigInt64Array.of(1n, 10n, 2n) } };
      await expect(gather.run(bad)).rejects.toThrow(/Gather: index 10 is out of range for an axis of 10/);
      expect(() => gather.runSync(bad)).toThrow(RangeError);
      const ok = await gather.run({ ids: { type: 'int64', dims: [1, 2], data: BigInt64Array.of(-1n, 2n) } });
      expect(Array.from(ok.embedded.data as Float32Array)).toEqual([36, 37, 38, 39, 8, 9, 10, 11]);
    } finally {
      await gather.dispose();
    }
  });

  test('an empty batch gives empty outputs', async () => {
    const out = await session.run({ input: floatFeed([0, 4, 32], 1) });
    expect(out.output.dims).toEqual([0, 4, 32]);
    expect(out.output.data.length).toBe(0);
  });

  test('a disposed session refuses to run', async () => {
    const s = await new NativeEngine().load(model);
    await s.dispose();
    await expect(s.run({ input: good() })).rejects.toThrow(/disposed/);
  });
});
