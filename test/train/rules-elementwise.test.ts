// Gradient rules of element-wise ops against central finite differences in float64 (onnxruntime's
// float64 kernels, or a float64 JavaScript reference where onnxruntime has only float32).
import { checkGradients, type GradCase } from './grad-check';
import { erfReference, hardSigmoidReference, hardSwishReference } from './reference-ops';

// Float64 gradients against float64 differences with step 1e-6 agree to ~1e-9 of the gradient's scale;
// 1e-6 leaves room for the cancellation in the differences and nothing more.
const FLOAT64_TOLERANCE = 1e-6;
// The analytic side runs in float32 (onnxruntime has these ops only in float32): its rounding is
// ~1e-7 relative per operation, a few operations deep.
const FLOAT32_TOLERANCE = 1e-4;

/** Inputs kept at least 0.1 away from `at`, so no difference step crosses a kink. */
const awayFrom = (at: number) => (v: number): number => at + (v >= 0 ? 0.1 + v : -0.1 + v);

const unary = (op: string, extra: Partial<GradCase> = {}, attrs: Record<string, number> = {}): GradCase => ({
  dtype: 'float64',
  inputs: { x: { dims: [3, 5] } },
  wrt: ['x'],
  build: (g) => g.node(op, ['x'], 1, attrs),
  ...extra,
});

const binary = (op: string, a: number[], b: number[], extra: Partial<GradCase> = {}): GradCase => ({
  dtype: 'float64',
  inputs: { a: { dims: a }, b: { dims: b } },
  wrt: ['a', 'b'],
  build: (g) => g.node(op, ['a', 'b']),
  ...extra,
});

const positive = (v: number): number => 0.5 + Math.abs(v);

const FLOAT64_CASES: [string, GradCase][] = [
  ['Add', binary('Add', [2, 3, 4], [2, 3, 4])],
  ['Add broadcast [2,3,4] + [4]', binary('Add', [2, 3, 4], [4])],
  ['Add broadcast [2,1,4] + [3,1]', binary('Add', [2, 1, 4], [3, 1])],
  ['Sub broadcast [3,1] - [2,1,4]', binary('Sub', [3, 1], [2, 1, 4])],
  ['Mul broadcast [2,3,4] * [1,3,1]', binary('Mul', [2, 3, 4], [1, 3, 1])],
  ['Div broadcast [2,3] / [3]', { ...binary('Div', [2, 3], [3]), inputs: { a: { dims: [2, 3] }, b: { dims: [3], shape: positive } } }],
  ['Sum of three', {
    dtype: 'float64', inputs: { a: { dims: [2, 3] }, b: { dims: [3] }, c: { dims: [2, 1] } }, wrt: ['a', 'b', 'c'],
    build: (g) => g.node('Sum', ['a', 'b', 'c']),
  }],
  ['Pow by 2', {
    dtype: 'float64', inputs: { x: { dims: [4, 3] } }, wrt: ['x'],
    build: (g) => g.node('Pow', ['x', g.initializer('p', Float64Array.of(2), [])]),
  }],
  ['Pow by 1.5', {
    dtype: 'float64', inputs: { x: { dims: [4, 3], shape: positive } }, wrt: ['x'],
    build: (g) => g.node('Pow', ['x', g.initializer('p', Float64Array.of(1.5), [])]),
  }],
  ['Neg', unary('Neg')],
  ['Sqrt', unary('Sqrt', { inputs: { x: { dims: [3, 5], shape: positive } } })],
  ['Exp', unary('Exp')],
  ['Log', unary('Log', { inputs: { x: { dims: [3, 5], shape: positive } } })],
  ['Tanh', unary('Tanh')],
  ['Sigmoid', unary('Sigmoid')],
  ['Relu', unary('Relu', { inputs: { x: { dims: [3, 5], shape: awayFrom(0) } } })],
  ['Identity', unary('Identity')],
  ['Clip(min, max)', {
    dtype: 'float64', inputs: { x: { dims: [4, 6], shape: (v) => awayFrom(0.5)(awayFrom(-0.5)(v)) } }, wrt: ['x'],
    build: (g) => g.node('Clip', ['x', g.initializer('lo', Float64Array.of(-0.5), []), g.initializer('hi', Float64Array.of(0.5), [])]),
  }],
  ['Clip(max only)', {
    dtype: 'float64', inputs: { x: { dims: [4, 6], shape: awayFrom(0.3) } }, wrt: ['x'],
    build: (g) => g.node('Clip', ['x', '', g.initializer('hi', Float64Array.of(0.3), [])]),
  }],
  ['Cast float64 -> float64', unary('Cast', {}, { to: 11 })],
  ['Dropout in inference mode', unary('Dropout')],
  ['Where broadcast', {
    dtype: 'float64',
    inputs: { c: { dims: [2, 3], dtype: 'bool', values: [1, 0, 1, 0, 0, 1] }, a: { dims: [2, 3] }, b: { dims: [3] } },
    wrt: ['a', 'b'],
    build: (g) => g.node('Where', ['c', 'a', 'b']),
  }],
];

const FLOAT32_CASES: [string, GradCase][] = [
  ['Erf', unary('Erf', { dtype: 'float32', reference: (v) => v.x.map(erfReference) })],
  ['HardSigmoid', unary('HardSigmoid', {
    dtype: 'float32', inputs: { x: { dims: [4, 6], shape: (v) => 3 * v } }, reference: (v) => v.x.map((x) => hardSigmoidReference(x, 0.3, 0.4)),
  }, { alpha: 0.3, beta: 0.4 })],
  ['HardSwish', unary('HardSwish', {
    dtype: 'float32', inputs: { x: { dims: [4, 6], shape: (v) => awayFrom(3)(awayFrom(-3)(4 * v)) } }, reference: (v) => v.x.map(hardSwishReference),
  })],
];

describe('element-wise gradient rules against float64 finite differences', () => {
  test.each(FLOAT64_CASES)('%s', async (_name, c) => {
    const r = await checkGradients(c);
    expect(r.scale).toBeGreaterThan(0.01);
    expect(r.relativeError).toBeLessThan(FLOAT64_TOLERANCE);
  });
  test.each(FLOAT32_CASES)('%s (float32 op, float64 reference)', async (_name, c) => {
    const r = await checkGradients(c);
    expect(r.scale).toBeGreaterThan(0.01);
    expect(r.relativeError).toBeLessThan(FLOAT32_TOLERANCE);
  });
});
