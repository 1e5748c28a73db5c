// Gradient rules of Conv (dense, strided, dilated, padded, grouped, depthwise), MaxPool, AveragePool and
// GlobalAveragePool against central finite differences in float64. onnxruntime has Conv and the average
// pools only in float32: their differences come from float64 JavaScript references.
import { checkGradients, type GradCase } from './grad-check';
import { averagePool2dReference, conv2dReference, globalAveragePoolReference } from './reference-ops';

// Float64 differences against float32 analytic gradients: see rules-elementwise.test.ts. Conv
// gradients sum up to a few hundred float32 products, still far below this.
const FLOAT32_TOLERANCE = 1e-4;
const FLOAT64_TOLERANCE = 1e-6;

interface ConvSpec {
  x: number[];
  w: number[];
  group?: number;
  strides?: number[];
  pads?: number[];
  dilations?: number[];
  autoPad?: string;
  bias?: boolean;
}

function convCase(s: ConvSpec): GradCase {
  const { group = 1, strides = [1, 1], pads = [0, 0, 0, 0], dilations = [1, 1], bias = true } = s;
  return {
    dtype: 'float32',
    inputs: { x: { dims: s.x }, w: { dims: s.w }, ...(bias ? { b: { dims: [s.w[0]] } } : {}) },
    wrt: ['x', 'w', ...(bias ? ['b'] : [])],
    build: (g) => g.node('Conv', ['x', 'w', ...(bias ? ['b'] : [])], 1, {
      group, strides, dilations, ...(s.autoPad ? { auto_pad: s.autoPad } : { pads }),
    }),
    reference: (v) => conv2dReference({ x: v.x, xDims: s.x, w: v.w, wDims: s.w, b: v.b, strides, pads, dilations, group }).y,
  };
}

interface PoolSpec {
  x: number[];
  kernel: number[];
  strides?: number[];
  pads?: number[];
  countIncludePad?: boolean;
  ceil?: boolean;
}

function averagePoolCase(s: PoolSpec): GradCase {
  const { strides = s.kernel, pads = [0, 0, 0, 0], countIncludePad = false, ceil = false } = s;
  return {
    dtype: 'float32',
    inputs: { x: { dims: s.x } },
    wrt: ['x'],
    build: (g) => g.node('AveragePool', ['x'], 1, {
      kernel_shape: s.kernel, strides, pads, count_include_pad: countIncludePad ? 1 : 0, ceil_mode: ceil ? 1 : 0,
    }),
    reference: (v) => averagePool2dReference({ x: v.x, xDims: s.x, kernel: s.kernel, strides, pads, countIncludePad, ceil }),
  };
}

function maxPoolCase(s: PoolSpec): GradCase {
  const { strides = s.kernel, pads = [0, 0, 0, 0], ceil = false } = s;
  return {
    dtype: 'float64',
    inputs: { x: { dims: s.x } },
    wrt: ['x'],
    build: (g) => g.node('MaxPool', ['x'], 1, { kernel_shape: s.kernel, strides, pads, ceil_mode: ceil ? 1 : 0 }),
  };
}

const FLOAT32_CASES: [string, GradCase][] = [
  ['Conv 3x3, pads 1, bias', convCase({ x: [2, 3, 6, 6], w: [4, 3, 3, 3], pads: [1, 1, 1, 1] })],
  ['Conv stride 2, dilation 2, uneven pads', convCase({ x: [2, 2, 9, 8], w: [3, 2, 3, 2], strides: [2, 2], dilations: [2, 2], pads: [1, 0, 2, 1] })],
  ['Conv stride 2 losing a row to floor', convCase({ x: [1, 2, 8, 7], w: [2, 2, 3, 3], strides: [2, 2] })],
  ['Conv auto_pad SAME_UPPER, stride 2', {
    ...convCase({ x: [1, 2, 7, 6], w: [3, 2, 3, 3], strides: [2, 2], autoPad: 'SAME_UPPER' }),
    reference: (v) => conv2dReference({ x: v.x, xDims: [1, 2, 7, 6], w: v.w, wDims: [3, 2, 3, 3], b: v.b, strides: [2, 2], pads: [1, 0, 1, 1], dilations: [1, 1], group: 1 }).y,
  }],
  ['Conv depthwise (group = channels)', convCase({ x: [2, 4, 5, 5], w: [4, 1, 3, 3], group: 4, pads: [1, 1, 1, 1] })],
  ['Conv depthwise with multiplier 2, stride 2', convCase({ x: [2, 3, 6, 6], w: [6, 1, 3, 3], group: 3, strides: [2, 2], pads: [1, 1, 1, 1] })],
  ['Conv grouped (2 groups of 2 -> 3)', convCase({ x: [2, 4, 5, 4], w: [6, 2, 2, 2], group: 2, bias: false })],
  ['Conv 1x1', convCase({ x: [3, 4, 3, 3], w: [5, 4, 1, 1] })],
  ['AveragePool 2x2 stride 2', averagePoolCase({ x: [2, 3, 4, 6], kernel: [2, 2] })],
  ['AveragePool 3x3 stride 1 pads 1, pads not counted', averagePoolCase({ x: [1, 2, 5, 5], kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1] })],
  ['AveragePool 3x3 stride 2 pads 1, pads counted', averagePoolCase({ x: [1, 2, 6, 5], kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], countIncludePad: true })],
  ['AveragePool ceil_mode', averagePoolCase({ x: [1, 2, 5, 5], kernel: [2, 2], ceil: true })],
  ['GlobalAveragePool', {
    dtype: 'float32', inputs: { x: { dims: [2, 3, 4, 5] } }, wrt: ['x'],
    build: (g) => g.node('GlobalAveragePool', ['x']),
    reference: (v) => globalAveragePoolReference(v.x, [2, 3, 4, 5]),
  }],
];

const FLOAT64_CASES: [string, GradCase][] = [
  ['MaxPool 2x2 stride 2', maxPoolCase({ x: [2, 3, 4, 6], kernel: [2, 2] })],
  ['MaxPool 3x3 stride 1 pads 1 (overlapping windows)', maxPoolCase({ x: [2, 2, 5, 5], kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1] })],
  ['MaxPool ceil_mode', maxPoolCase({ x: [1, 2, 5, 5], kernel: [2, 2], ceil: true })],
];

describe('conv and pooling gradient rules against float64 finite differences', () => {
  test.each(FLOAT32_CASES)('%s (float32 op, float64 reference)', async (_name, c) => {
    const r = await checkGradients(c);
    expect(r.scale).toBeGreaterThan(0.01);
    expect(r.relativeError).toBeLessThan(FLOAT32_TOLERANCE);
  });
  test.each(FLOAT64_CASES)('%s', async (_name, c) => {
    const r = await checkGradients(c);
    expect(r.scale).toBeGreaterThan(0.01);
    expect(r.relativeError).toBeLessThan(FLOAT64_TOLERANCE);
  });
});
