// GPTQ for weight-only 4-bit: the linear algebra, the algorithm against round-to-nearest on one layer,
// and a whole encoder quantized with --algorithm gptq, run in onnxruntime.
import { buildTransformerBlock } from '../../lib/onnx';
import { createRandom } from '../../lib/onnx/random';
import type { Feeds } from '../../lib/engine/tensor';
import { compareModels } from '../../lib/compare/compare';
import { serializeModel } from '../../lib/onnx';
import { quantize } from '../../lib/quantize';
import { dequantizeBlockwise, quantizeBlockwise } from '../../lib/quantize/blockwise';
import { HessianAccumulator, quantizeGptq, reconstructionError } from '../../lib/quantize/gptq/gptq';
import { cholesky, inverseFromCholesky, upperCholesky } from '../../lib/quantize/gptq/linalg';
import { floats, opCounts } from './helpers';

/** Rows with correlated, unequally scaled channels (a low-rank mix plus a few strong channels), as real activations have. */
function correlatedRows(rows: number, k: number, seed: number): Float32Array {
  const next = createRandom(seed);
  const rank = 6;
  const mix = floats(rank * k, 99);
  const out = new Float32Array(rows * k);
  for (let r = 0; r < rows; r++) {
    const z = Array.from({ length: rank }, () => next() * 2 - 1);
    for (let c = 0; c < k; c++) {
      let v = 0.1 * (next() * 2 - 1);
      for (let j = 0; j < rank; j++) v += z[j] * mix[j * k + c];
      out[r * k + c] = v * (c % 13 === 0 ? 4 : 1);
    }
  }
  return out;
}

describe('GPTQ linear algebra', () => {
  it('the inverse from a Cholesky factor times the matrix is the identity; the upper factor gives back the matrix', () => {
    const n = 17;
    const acc = new HessianAccumulator(n);
    acc.add(correlatedRows(64, n, 3));
    const h = acc.hessian();
    for (let i = 0; i < n; i++) h[i * n + i] += 0.01;
    const inv = inverseFromCholesky(cholesky(h, n), n);
    let worst = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += h[i * n + k] * inv[k * n + j];
      worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
    }
    expect(worst).toBeLessThan(1e-8);
    const u = upperCholesky(h, n);
    let back = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += u[k * n + i] * u[k * n + j];
      back = Math.max(back, Math.abs(s - h[i * n + j]));
    }
    expect(back).toBeLessThan(1e-10);
  });

  it('H accumulated over several calls is 2XᵀX / rows of all the rows together', () => {
    const k = 7, x = correlatedRows(9, k, 21);
    const acc = new HessianAccumulator(k);
    acc.add(x.subarray(0, 4 * k));
    acc.add(x.subarray(4 * k));
    const h = acc.hessian();
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
      let s = 0;
      for (let r = 0; r < 9; r++) s += x[r * k + i] * x[r * k + j];
      expect(h[i * k + j]).toBeCloseTo((2 * s) / 9, 10);
    }
  });

  it('a matrix that is not positive definite is refused with a RangeError', () => {
    expect(() => cholesky(Float64Array.of(1, 2, 2, 1), 2)).toThrow(RangeError);
  });
});

describe('quantizeGptq on one layer', () => {
  const k = 96, n = 40, blockSize = 32;
  const weight = floats(k * n, 5).map((v) => v * 0.2);

  it('with H a multiple of the identity there is no error to spread: the codes are round-to-nearest\'s', () => {
    const h = new Float64Array(k * k);
    for (let i = 0; i < k; i++) h[i * k + i] = 3;
    const options = { bits: 4, blockSize, symmetric: true, clipSearch: false };
    const gptq = quantizeGptq(weight, k, n, h, options);
    const rtn = quantizeBlockwise(weight, k, n, options);
    expect(gptq.packed).toEqual(rtn.packed);
    expect(gptq.scales).toEqual(rtn.scales);
  });

  it.each([
    ['symmetric', true, false],
    ['asymmetric', false, false],
    ['symmetric, act-order', true, true],
  ] as const)('%s: on correlated inputs the layer output error is below round-to-nearest\'s (clip search on both)', (_, symmetric, actOrder) => {
    const acc = new HessianAccumulator(k);
    acc.add(correlatedRows(512, k, 7));
    const h = acc.hessian();
    const options = { bits: 4, blockSize, symmetric, clipSearch: true };
    const gptq = reconstructionError(weight, dequantizeBlockwise(quantizeGptq(weight, k, n, h, { ...options, actOrder }), options), k, n, h);
    const rtn = reconstructionError(weight, dequantizeBlockwise(quantizeBlockwise(weight, k, n, options), options), k, n, h);
    // GPTQ trades weight error for output error: the output error is what it promises to lower.
    expect(gptq.output).toBeLessThan(rtn.output * 0.8);
  });

  it('bad sizes are refused', () => {
    expect(() => quantizeGptq(weight, k, n, new Float64Array(4), { bits: 4, blockSize, symmetric: true })).toThrow(/hessian holds 4 values/);
    expect(() => new HessianAccumulator(5).add(new Float32Array(7))).toThrow(/whole number of rows/);
  });
});

describe('weight-only 4-bit --algorithm gptq on an encoder', () => {
  const shape = { seq: 16, hidden: 64, heads: 4, ffn: 256, layers: 2, seed: 3 };
  const source = buildTransformerBlock(shape);
  const feeds = (seed: number): Feeds => ({ input: { type: 'float32', dims: [1, shape.seq, shape.hidden], data: correlatedRows(shape.seq, shape.hidden, seed) } });
  const calibration = Array.from({ length: 16 }, (_, i) => feeds(100 + i));
  const held = Array.from({ length: 8 }, (_, i) => feeds(500 + i));

  async function outputError(algorithm: 'rtn' | 'gptq', actOrder = false) {
    const { model, report } = await quantize(source, { mode: 'weight-only', bits: 4, algorithm, actOrder, calibration, verify: false });
    const compared = await compareModels(serializeModel(source), serializeModel(model), { samples: held, latencyRuns: 0 });
    return { model, report, error: compared.outputs[0].meanAbsError, cosine: compared.outputs[0].cosine as number };
  }

  it('GPTQ (and GPTQ with act-order) ends closer to float than round-to-nearest on held-out inputs; both write MatMulNBits', async () => {
    const rtn = await outputError('rtn');
    const gptq = await outputError('gptq');
    const ordered = await outputError('gptq', true);
    expect(opCounts(gptq.model).MatMulNBits).toBe(opCounts(rtn.model).MatMulNBits);
    expect(opCounts(gptq.model).MatMul ?? 0).toBe(opCounts(rtn.model).MatMul ?? 0);
    expect(gptq.report.quantized.every((q) => /GPTQ/.test(q.detail))).toBe(true);
    expect(gptq.error).toBeLessThan(rtn.error);
    expect(ordered.error).toBeLessThan(rtn.error);
    expect(gptq.cosine).toBeGreaterThan(rtn.cosine);
    // The report compares both algorithms layer by layer on the calibration inputs.
    const g = gptq.report.gptq;
    expect(g?.layers).toHaveLength(gptq.report.quantized.length);
    expect(g?.outputErrorRatio).toBeLessThan(1);
    expect(g?.samples).toBe(16);
    expect(rtn.report.gptq).toBeNull();
  });

  it('gptq is refused outside weight-only 4-bit', async () => {
    await expect(quantize(source, { mode: 'dynamic', algorithm: 'gptq' })).rejects.toThrow(/weight-only 4-bit/);
    await expect(quantize(source, { mode: 'weight-only', bits: 8, algorithm: 'gptq' })).rejects.toThrow(/weight-only 4-bit/);
  });
});
