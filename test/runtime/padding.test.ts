// Padding in the batcher: requests that differ in a named dynamic dim share one run and get
// their own shapes back; checked on plain tensors, through the scheduler, and on a real model.
import type { ValueMetadata } from '../../lib/engine/engine';
import { OrtEngine } from '../../lib/engine/ort-engine';
import type { Feeds, HostTensor } from '../../lib/engine/tensor';
import { GraphBuilder, randomNormal, serializeModel } from '../../lib/onnx';
import type { InstanceResult } from '../../lib/runtime/instance-session';
import { concatPadded, paddingPlan } from '../../lib/runtime/padding';
import { ModelRuntime } from '../../lib/runtime/runtime';
import { Executor, Scheduler } from '../../lib/runtime/scheduler';
import { FakeClock } from './fake-clock';
import { writeRepository } from './fixtures';

const meta = (name: string, shape: (number | string)[], type: ValueMetadata['type'] = 'float32') => ({ name, type, shape }) as ValueMetadata;
const tensor = (dims: number[], values: number[]): HostTensor => ({ type: 'float32', dims, data: Float32Array.from(values) });

describe('padding plan', () => {
  const inputs = [meta('x', ['batch', 'seq', 2]), meta('mask', ['batch', 'seq'], 'int64')];
  const outputs = [meta('y', ['batch', 'seq', 2]), meta('pooled', ['batch', 2])];

  test('finds the padded axes of inputs and outputs by dim name', () => {
    const plan = paddingPlan({ dims: ['seq'], values: { x: -1 } }, inputs, outputs, 'm');
    expect(plan.inputs).toEqual({ x: [{ axis: 1, dim: 'seq' }], mask: [{ axis: 1, dim: 'seq' }] });
    expect(plan.outputs).toEqual({ y: [{ axis: 1, dim: 'seq' }] });
  });

  test.each([
    [{ dims: ['len'], values: {} }, inputs, /padding.dims names "len", which no input has/],
    [{ dims: ['seq'], values: { z: 0 } }, inputs, /padding.values names "z", which is not an input/],
    [{ dims: ['seq'], values: {} }, [meta('s', ['batch', 'seq'], 'string')], /cannot pad the string input s/],
  ])('refuses %j with a message', (config, ins, message) => {
    expect(() => paddingPlan(config, ins, outputs, 'm')).toThrow(message);
  });

  test('concatenates requests padded to the longest with each input\'s pad value', () => {
    const plan = paddingPlan({ dims: ['seq'], values: { x: -1 } }, inputs, outputs, 'm');
    const a: Feeds = { x: tensor([1, 1, 2], [1, 2]), mask: { type: 'int64', dims: [1, 1], data: BigInt64Array.from([1n]) } };
    const b: Feeds = { x: tensor([1, 3, 2], [3, 4, 5, 6, 7, 8]), mask: { type: 'int64', dims: [1, 3], data: BigInt64Array.from([1n, 1n, 1n]) } };
    const merged = concatPadded(plan, [a, b], [{ seq: 1 }, { seq: 3 }]);
    expect(merged.x.dims).toEqual([2, 3, 2]);
    expect(Array.from(merged.x.data as Float32Array)).toEqual([1, 2, -1, -1, -1, -1, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(merged.mask.data as BigInt64Array)).toEqual([1n, 0n, 0n, 1n, 1n, 1n]);
  });
});

/** y = 2x, run at once. */
class DoublingExecutor implements Executor {
  inflight = 0;
  failure: string | undefined;
  runs: Feeds[] = [];

  run(feeds: Feeds): Promise<InstanceResult> {
    this.runs.push(feeds);
    const x = feeds.x;
    return Promise.resolve({ outputs: { y: { type: 'float32', dims: x.dims, data: (x.data as Float32Array).map((v) => 2 * v) } }, computeMs: 1 });
  }
}

test('the scheduler merges requests of different lengths into one padded run and crops each answer back', async () => {
  const plan = paddingPlan({ dims: ['seq'], values: {} }, [meta('x', ['batch', 'seq', 2])], [meta('y', ['batch', 'seq', 2])], 'm');
  const executor = new DoublingExecutor();
  const scheduler = new Scheduler([executor], {
    maxBatchSize: 8, dynamicBatching: { preferredBatchSizes: [], maxQueueDelayMs: 0 }, maxQueueSize: 10, timeoutMs: 0, defaultPriority: 0, padding: plan,
  }, {}, new FakeClock());
  const resume = scheduler.pause();
  const lengths = [2, 4, 1];
  const pending = lengths.map((seq, i) => scheduler.submit({ x: tensor([1, seq, 2], Array.from({ length: seq * 2 }, (_, k) => 10 * i + k)) }, 1));
  resume();
  const results = await Promise.all(pending);
  expect(executor.runs.map((f) => f.x.dims)).toEqual([[3, 4, 2]]);
  lengths.forEach((seq, i) => {
    expect(results[i].y.dims).toEqual([1, seq, 2]);
    expect(Array.from(results[i].y.data as Float32Array)).toEqual(Array.from({ length: seq * 2 }, (_, k) => 2 * (10 * i + k)));
  });
});

/** x [batch, seq, 4] -> y = x W [batch, seq, 4]: positions do not mix, so padding cannot change a real position's answer. */
function positionwise() {
  const g = new GraphBuilder('positionwise');
  const x = g.input('x', 'float32', ['batch', 'seq', 4]);
  const w = g.initializer('w', randomNormal(16, 5, 0.5), [4, 4]);
  g.node('MatMul', [x, w], ['y']);
  g.output('y', 'float32', ['batch', 'seq', 4]);
  return g.build();
}

test('a real model with padding: one run for three lengths, each answer equal to running it alone', async () => {
  const model = positionwise();
  const runtime = new ModelRuntime({
    repository: writeRepository({
      padded: { config: { max_batch_size: 8, dynamic_batching: { padding: { dims: ['seq'] } }, warmup: { samples: 0 } }, versions: { 1: model } },
    }),
  });
  const session = await new OrtEngine().load(serializeModel(model));
  try {
    await runtime.start();
    const loaded = runtime.loadedModel('padded')!;
    const resume = loaded.pauseDispatch();
    const lengths = [3, 7, 1];
    const feeds = lengths.map((seq, i): Feeds => ({ x: tensor([1, seq, 4], Array.from(randomNormal(seq * 4, 10 + i, 1))) }));
    const pending = feeds.map((f) => runtime.infer('padded', f));
    resume();
    const results = await Promise.all(pending);
    const text = await runtime.metrics.registry.metrics();
    expect(text).toContain('onnxforge_executions_total{model="padded",version="1"} 1');
    for (const [i, f] of feeds.entries()) {
      const alone = (await session.run(f)).y;
      expect(results[i].outputs.y.dims).toEqual([1, lengths[i], 4]);
      const got = results[i].outputs.y.data as Float32Array;
      (alone.data as Float32Array).forEach((v, k) => expect(got[k]).toBeCloseTo(v, 5));
    }
  } finally {
    await session.dispose();
    await runtime.close();
  }
});
