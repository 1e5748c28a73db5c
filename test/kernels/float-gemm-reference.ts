// Float64 references for linearFloat, the tolerance it promises, and the test cases.
import type { FloatActivation } from '../../binding';
import { randomFloats, rng } from './int8-reference';

/** erf in double: Taylor series below 3 (absolute error below 1e-13), else 1 - erfc from its continued fraction. */
export function erf(z: number): number {
  const a = Math.abs(z);
  if (Number.isNaN(z)) return z;
  if (a < 3) {
    let term = z;
    let sum = z;
    for (let n = 1; Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= (-z * z) / n;
      sum += term / (2 * n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(a) = e^-a^2 / sqrt(pi) / (a + 1/2 / (a + 1 / (a + 3/2 / (a + ...)))), evaluated from the tail.
  let fraction = a;
  for (let n = 60; n >= 1; n--) fraction = a + n / 2 / fraction;
  const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / fraction;
  return Math.sign(z) * (1 - erfc);
}

export function activationRef(activation: FloatActivation, v: number): number {
  switch (activation) {
    case 'none': return v;
    case 'relu': return v < 0 ? 0 : v;
    case 'gelu': return 0.5 * v * (1 + erf(v / Math.SQRT2));
    case 'gelu_tanh': return 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
    case 'tanh': return Math.tanh(v);
    case 'sigmoid': return 1 / (1 + Math.exp(-v));
  }
}

export const ACTIVATIONS: readonly FloatActivation[] = ['none', 'relu', 'gelu', 'gelu_tanh', 'tanh', 'sigmoid'];

export interface FloatCase {
  label: string;
  m: number; k: number; n: number;
  /** B as packFloatWeights takes it: k x n, or n x k when transposed. */
  b: Float32Array;
  transposed: boolean;
  x: Float32Array;
  bias?: Float32Array;
  activation: FloatActivation;
  residual?: Float32Array;
}

const UNIT = 2 ** -24;  // float32's unit roundoff

/**
 * The float64 result and the bound linearFloat promises for each element: a sum of k products in any
 * order, plus the bias, is within (k + 2) u sum |x w| + |bias| of exact (Higham's gamma_k); the activation
 * magnifies that by its slope (at most 1.13, GELU's: 1.2 is used) and adds its own error, 4 ulp plus
 * 2.5e-7 absolute for the erf-based functions; the residual add rounds once more. Hence
 *   |got - ref| <= 1.2 (k + 2) u (sum |x w| + |bias|) + 8 u |ref| + 2.5e-7,  u = 2^-24.
 */
export function linearRef(c: FloatCase): { y: Float64Array; bound: Float64Array } {
  const { m, k, n } = c;
  const y = new Float64Array(m * n);
  const bound = new Float64Array(m * n);
  const w = (p: number, j: number) => (c.transposed ? c.b[j * k + p] : c.b[p * n + j]);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = c.bias ? c.bias[j] : 0;
      let absSum = Math.abs(sum);
      for (let p = 0; p < k; p++) {
        const product = c.x[i * k + p] * w(p, j);
        sum += product;
        absSum += Math.abs(product);
      }
      const ref = activationRef(c.activation, sum) + (c.residual ? c.residual[i * n + j] : 0);
      y[i * n + j] = ref;
      bound[i * n + j] = 1.2 * (k + 2) * UNIT * absSum + 8 * UNIT * Math.abs(ref) + 2.5e-7;
    }
  }
  return { y, bound };
}

/** The first element outside its bound, described, or null. */
export function firstOutOfBound(got: Float32Array, ref: { y: Float64Array; bound: Float64Array }): string | null {
  if (got.length !== ref.y.length) return `length ${got.length}, expected ${ref.y.length}`;
  for (let e = 0; e < got.length; e++) {
    if (!(Math.abs(got[e] - ref.y[e]) <= ref.bound[e])) return `element ${e}: ${got[e]}, expected ${ref.y[e]} ± ${ref.bound[e]}`;
  }
  return null;
}

// Awkward shapes around the kernels' blocks (rows 4/6/14, panels 8/16/32) and a BERT-sized layer.
const SHAPES: [number, number, number][] = [
  [1, 1, 1], [3, 15, 17], [15, 16, 17], [16, 31, 33], [17, 63, 65], [31, 33, 15], [33, 17, 255],
  [63, 65, 31], [1, 257, 63], [3, 768, 255], [65, 3, 257], [1, 768, 768], [70, 768, 40], [2, 0, 5],
];

/** Every shape with every activation, alternating transposed B, bias and residual. */
export function floatCases(seed = 7): FloatCase[] {
  const rand = rng(seed);
  const cases: FloatCase[] = [];
  let index = 0;
  for (const [m, k, n] of SHAPES) {
    for (const activation of ACTIVATIONS) {
      const transposed = index % 2 === 1;
      const withBias = index % 3 !== 0;
      const withResidual = Math.floor(index / 2) % 2 === 0;
      cases.push({
        label: `${m}x${k}x${n} ${activation}${transposed ? ' transposed' : ''}${withBias ? ' bias' : ''}${withResidual ? ' residual' : ''}`,
        m, k, n, transposed, activation,
        b: randomFloats(k * n, 1, rand),
        x: randomFloats(m * k, 1, rand),
        bias: withBias ? randomFloats(n, 1, rand) : undefined,
        residual: withResidual ? randomFloats(m * n, 1, rand) : undefined,
      });
      index++;
    }
  }
  return cases;
}
