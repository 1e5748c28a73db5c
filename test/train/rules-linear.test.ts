// Gradient rules of MatMul, Gemm, Softmax, LogSoftmax, LayerNormalization and the reductions against
// central finite differences in float64.
import { attr } from '../../lib/onnx/attributes';
import { checkGradients, type GradCase } from './grad-check';

// Float64 on both sides: see rules-elementwise.test.ts.
const TOLERANCE = 1e-6;

const matmul = (a: number[], b: number[]): GradCase => ({
  dtype: 'float64', inputs: { a: { dims: a }, b: { dims: b } }, wrt: ['a', 'b'], build: (g) => g.node('MatMul', ['a', 'b']),
});

const gemm = (a: number[], b: number[], c: number[] | undefined, attrs: Record<string, unknown>): GradCase => ({
  dtype: 'float64',
  inputs: { a: { dims: a }, b: { dims: b }, ...(c ? { c: { dims: c } } : {}) },
  wrt: ['a', 'b', ...(c ? ['c'] : [])],
  build: (g) => g.node('Gemm', ['a', 'b', ...(c ? ['c'] : [])], 1, attrs as Record<string, number>),
});

const over = (op: string, dims: number[], attrs: Record<string, unknown>, axes?: number[]): GradCase => ({
  dtype: 'float64', inputs: { x: { dims } }, wrt: ['x'],
  build: (g) => g.node(op, axes ? ['x', g.initializer('axes', BigInt64Array.from(axes, BigInt), [axes.length])] : ['x'], 1, attrs as Record<string, number>),
});

const CASES: [string, GradCase][] = [
  ['MatMul [3,4]x[4,5]', matmul([3, 4], [4, 5])],
  ['MatMul linear layer [2,3,4]x[4,5]', matmul([2, 3, 4], [4, 5])],
  ['MatMul batched broadcast [2,1,3,4]x[3,4,2]', matmul([2, 1, 3, 4], [3, 4, 2])],
  ['MatMul attention [2,2,3,4]x[2,2,4,3]', matmul([2, 2, 3, 4], [2, 2, 4, 3])],
  ['MatMul vector x matrix [4]x[2,4,3]', matmul([4], [2, 4, 3])],
  ['MatMul matrix x vector [2,3,4]x[4]', matmul([2, 3, 4], [4])],
  ['MatMul vector x vector [4]x[4]', matmul([4], [4])],
  ['Gemm', gemm([3, 4], [4, 5], [5], {})],
  ['Gemm transB, alpha, beta, bias [1,5]', gemm([3, 4], [5, 4], [1, 5], { transB: 1, alpha: attr.float(0.7), beta: attr.float(1.3) })],
  ['Gemm transA, bias [3,5]', gemm([4, 3], [4, 5], [3, 5], { transA: 1 })],
  ['Gemm transA transB, no bias', gemm([4, 3], [5, 4], undefined, { transA: 1, transB: 1 })],
  ['Softmax last axis', over('Softmax', [2, 3, 5], { axis: -1 })],
  ['Softmax axis 1', over('Softmax', [2, 3, 5], { axis: 1 })],
  ['LogSoftmax last axis', over('LogSoftmax', [3, 6], { axis: -1 })],
  ['ReduceSum axes [1] keepdims', over('ReduceSum', [2, 3, 4], {}, [1])],
  ['ReduceSum axes [0, 2] no keepdims', over('ReduceSum', [2, 3, 4], { keepdims: 0 }, [0, 2])],
  ['ReduceSum all', over('ReduceSum', [2, 3, 4], { keepdims: 0 })],
  ['ReduceMean axes [-1] (attribute, opset 17)', { ...over('ReduceMean', [2, 3, 4], { axes: [-1] }), opset: 17 }],
  ['ReduceMean axes [1, 2] (input, opset 18)', { ...over('ReduceMean', [2, 3, 4], { keepdims: 0 }, [1, 2]), opset: 18 }],
  ['LayerNormalization last axis', {
    dtype: 'float64', inputs: { x: { dims: [2, 3, 6] }, s: { dims: [6] }, b: { dims: [6] } }, wrt: ['x', 's', 'b'],
    build: (g) => g.node('LayerNormalization', ['x', 's', 'b'], 1, { axis: -1, epsilon: attr.float(1e-5) }),
  }],
  ['LayerNormalization over two axes, no bias', {
    dtype: 'float64', inputs: { x: { dims: [2, 3, 4] }, s: { dims: [3, 4] } }, wrt: ['x', 's'],
    build: (g) => g.node('LayerNormalization', ['x', 's'], 1, { axis: 1, epsilon: attr.float(1e-5) }),
  }],
  ['LayerNormalization decomposed (ReduceMean, Sub, Pow, Add, Sqrt, Div, Mul, Add; opset 14)', {
    dtype: 'float64', inputs: { x: { dims: [2, 3, 6] }, s: { dims: [6] }, b: { dims: [6] } }, wrt: ['x', 's', 'b'], opset: 14,
    build: (g) => {
      const mean = (v: string) => g.node('ReduceMean', [v], 1, { axes: [-1] });
      const centred = g.node('Sub', ['x', mean('x')]);
      const variance = mean(g.node('Pow', [centred, g.initializer('two', Float64Array.of(2), [])]));
      const std = g.node('Sqrt', [g.node('Add', [variance, g.initializer('eps', Float64Array.of(1e-5), [])])]);
      return g.node('Add', [g.node('Mul', [g.node('Div', [centred, std]), 's']), 'b']);
    },
  }],
];

describe('linear-algebra and normalization gradient rules against float64 finite differences', () => {
  test.each(CASES)('%s', async (_name, c) => {
    const r = await checkGradients(c);
    expect(r.scale).toBeGreaterThan(0.01);
    expect(r.relativeError).toBeLessThan(TOLERANCE);
  });
});
