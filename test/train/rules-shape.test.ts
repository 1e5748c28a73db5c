// Gradient rules of ops that move values (reshapes, transposes, joins, cuts, Expand, Gather) against
// central finite differences in float64, and the nodes that cannot be differentiated named up front.
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../../lib/onnx/builder';
import { findUnsupported } from '../../lib/train/autodiff';
import { probeValues } from '../../lib/train/probe';
import { checkGradients, type GradCase } from './grad-check';

// Float64 on both sides: see rules-elementwise.test.ts.
const TOLERANCE = 1e-6;

const ints = (g: GraphBuilder, name: string, values: number[]): string => g.initializer(name, BigInt64Array.from(values, BigInt), [values.length]);

const one = (dims: number[], build: GradCase['build'], extra: Partial<GradCase> = {}): GradCase => ({
  dtype: 'float64', inputs: { x: { dims } }, wrt: ['x'], build, ...extra,
});

const CASES: [string, GradCase][] = [
  ['Reshape', one([2, 3, 4], (g) => g.node('Reshape', ['x', ints(g, 's', [4, -1])]))],
  ['Flatten', one([2, 3, 4], (g) => g.node('Flatten', ['x'], 1, { axis: 2 }))],
  ['Squeeze', one([2, 1, 4], (g) => g.node('Squeeze', ['x', ints(g, 'a', [1])]))],
  ['Unsqueeze', one([2, 4], (g) => g.node('Unsqueeze', ['x', ints(g, 'a', [0, 2])]))],
  ['Transpose', one([2, 3, 4], (g) => g.node('Transpose', ['x'], 1, { perm: [2, 0, 1] }))],
  ['Transpose default perm', one([2, 3, 4], (g) => g.node('Transpose', ['x']))],
  ['Expand', one([3, 1], (g) => g.node('Expand', ['x', ints(g, 's', [2, 3, 4])]))],
  ['Concat axis 1', {
    dtype: 'float64', inputs: { a: { dims: [2, 2, 3] }, b: { dims: [2, 4, 3] }, c: { dims: [2, 1, 3] } }, wrt: ['a', 'c'],
    build: (g) => g.node('Concat', ['a', 'b', 'c'], 1, { axis: 1 }),
  }],
  ['Slice with negative bounds', one([4, 6], (g) => g.node('Slice', ['x', ints(g, 's', [1, -4]), ints(g, 'e', [3, 100]), ints(g, 'a', [0, -1])]))],
  ['Slice on one axis, steps 1', one([3, 5], (g) => g.node('Slice', ['x', ints(g, 's', [1]), ints(g, 'e', [4]), ints(g, 'a', [1]), ints(g, 't', [1])]))],
  ['Split, one output unused', one([2, 7], (g) => {
    g.node('Split', ['x', ints(g, 's', [2, 3, 2])], ['first', 'unused', 'third'], { axis: 1 });
    return g.node('Concat', ['third', 'first'], 1, { axis: 1 });
  })],
  ['Gather embedding rows, repeated indices', {
    dtype: 'float64', inputs: { t: { dims: [5, 3] }, i: { dims: [2, 3], dtype: 'int64', values: [0, 4, 4, 1, -1, 0] } }, wrt: ['t'],
    build: (g) => g.node('Gather', ['t', 'i']),
  }],
  ['Gather axis 1 with a scalar index (CLS token)', {
    dtype: 'float64', inputs: { x: { dims: [2, 4, 3] } }, wrt: ['x'],
    build: (g) => g.node('Gather', ['x', g.initializer('zero', BigInt64Array.of(0n), [])], 1, { axis: 1 }),
  }],
  ['Gather axis 2 with index matrix', {
    dtype: 'float64', inputs: { x: { dims: [2, 3, 4] }, i: { dims: [2, 2], dtype: 'int64', values: [3, 0, 3, 1] } }, wrt: ['x'],
    build: (g) => g.node('Gather', ['x', 'i'], 1, { axis: 2 }),
  }],
  ['Reshape through a Shape/Gather/Concat chain (carried, not differentiated)', one([2, 3, 4], (g) => {
    const batch = g.node('Gather', [g.node('Shape', ['x']), g.initializer('zero', BigInt64Array.of(0n), [1])], 1, { axis: 0 });
    return g.node('Reshape', ['x', g.node('Concat', [batch, ints(g, 'rest', [-1])], 1, { axis: 0 })]);
  })],
];

describe('shape-op gradient rules against float64 finite differences', () => {
  test.each(CASES)('%s', async (_name, c) => {
    const r = await checkGradients(c);
    expect(r.scale).toBeGreaterThan(0.01);
    expect(r.relativeError).toBeLessThan(TOLERANCE);
  });
});

test('nodes without a rule on the way to the loss are named before any training run; shape chains and masks are not', async () => {
  const g = new GraphBuilder();
  g.input('x', 'float32', [2, 4]);
  g.input('mask', 'float32', [2, 4]);
  const w = g.initializer('w', new Float32Array(16).fill(0.1), [4, 4]);
  const h = g.node('MatMul', ['x', w]);
  const floor = g.node('Floor', [h], ['floored']);
  const strided = g.node('Slice', [floor, g.initializer('s', BigInt64Array.of(0n), [1]), g.initializer('e', BigInt64Array.of(4n), [1]),
    g.initializer('a', BigInt64Array.of(1n), [1]), g.initializer('t', BigInt64Array.of(2n), [1])], ['strided']);
  const masked = g.node('Mul', [strided, g.node('Slice', ['mask', 's', 'e', 'a', 't'])]);
  const size = g.node('Cast', [g.node('Size', [h])], 1, { to: 1 });
  g.node('ReduceSum', [g.node('Div', [masked, size])], ['loss'], { keepdims: 0 });
  g.output('loss', 'float32', []);
  const model = g.build();
  const feeds = { x: new ort.Tensor('float32', new Float32Array(8).fill(1), [2, 4]), mask: new ort.Tensor('float32', new Float32Array(8).fill(1), [2, 4]) };
  const unsupported = findUnsupported(model, 'loss', [w], await probeValues(model, feeds));
  expect(unsupported.map((u) => `${u.op}: ${u.reason}`)).toEqual(['Floor: no gradient rule for Floor', 'Slice: Slice with steps other than 1']);
});
