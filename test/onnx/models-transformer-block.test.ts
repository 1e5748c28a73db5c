// buildTransformerBlock as a stack (the benchmarks' encoders) with a per-token classifier head.
import * as ort from 'onnxruntime-node';
import { buildTransformerBlock, makeValueInfo, serializeModel } from '../../lib/onnx';
import { floatInput, runOrt } from './helpers';

describe('buildTransformerBlock stacks', () => {
  const sizes = { seq: 6, hidden: 16, heads: 2, ffn: 32, batch: 'batch', seed: 4 };

  test('layers chain blocks under layer{i}. names, sharing one set of scalars, with a classifier head', async () => {
    const model = buildTransformerBlock({ ...sizes, layers: 3, classes: 5 });
    const count = (op: string) => model.graph.node.filter((n) => n.opType === op).length;
    expect([count('LayerNormalization'), count('Softmax'), count('Erf'), count('MatMul')]).toEqual([6, 3, 3, 3 * 8 + 1]);
    const names = model.initializerNames();
    for (const i of [0, 1, 2]) expect(names).toContain(`layer${i}.ffn.up.weight`);
    expect(names.filter((n) => n.startsWith('scalar.'))).toHaveLength(4);
    expect(model.outputs.map((v) => [v.name, v.dims])).toEqual([['output', ['batch', 6, 16]], ['logits', ['batch', 6, 5]]]);
    const out = await runOrt(model, { input: floatInput([2, 6, 16]) });
    expect([out.output.dims, out.logits.dims]).toEqual([[2, 6, 16], [2, 6, 5]]);
  });

  test('block 0 of a stack is the single block of the same seed, and block 1 reads its output', async () => {
    const single = await runOrt(buildTransformerBlock(sizes), { input: floatInput([2, 6, 16]) });
    const stack = buildTransformerBlock({ ...sizes, layers: 2 });
    const firstOutput = stack.consumers('layer1.ln1.weight')[0].node.input[0];
    expect(stack.producer(firstOutput)?.node.opType).toBe('Add');
    stack.graph.output.push(makeValueInfo(firstOutput, 'float32'));
    const session = await ort.InferenceSession.create(serializeModel(stack));
    const out = await session.run({ input: floatInput([2, 6, 16]) });
    await session.release();
    const [a, b] = [out[firstOutput].data as Float32Array, single.output.data as Float32Array];
    expect(a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0)).toBeLessThan(1e-5);
  });

  test('refuses an empty stack', () => {
    expect(() => buildTransformerBlock({ ...sizes, layers: 0 })).toThrow(RangeError);
  });
});
