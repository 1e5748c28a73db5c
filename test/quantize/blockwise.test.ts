// Block-wise 4-bit weights: layout and rounding, and onnxruntime's MatMulNBits multiplying by exactly
// the weights dequantizeBlockwise describes.
import * as ort from 'onnxruntime-node';
import { GraphBuilder, randomNormal } from '../../lib/onnx';
import { dequantizeBlockwise, quantizeBlockwise } from '../../lib/quantize/blockwise';
import { floats, runModel } from './helpers';

describe('quantizeBlockwise', () => {
  it('packs codes low nibble first along K, one row of blocks per output column', () => {
    // K = 32, N = 1: values -8..7 times 0.5 -> symmetric scale 0.5 (largest magnitude -4 maps to code 0).
    const k = 32;
    const w = Float32Array.from({ length: k }, (_, i) => ((i % 16) - 8) * 0.5);
    const q = quantizeBlockwise(w, k, 1, { bits: 4, blockSize: 32, symmetric: true });
    expect(q.blocks).toBe(1);
    expect(q.scales[0]).toBeCloseTo(0.5, 7);
    expect(q.zeroPoints).toBeNull();
    expect(q.packed[0]).toBe(0x10); // codes 0 (low) and 1 (high)
    expect(q.packed[7]).toBe(0xfe); // codes 14 and 15
  });

  it('pads a short last block with the zero point and stores packed zero points when asymmetric', () => {
    const k = 40;
    const n = 3;
    const w = floats(k * n, 5).map((v) => v + 0.3);
    const options = { bits: 4, blockSize: 32, symmetric: false, clipSearch: false };
    const q = quantizeBlockwise(w, k, n, options);
    expect(q.blocks).toBe(2);
    expect(q.packed).toHaveLength(n * 2 * 16);
    expect(q.zeroPoints).toHaveLength(n * 1);
    const back = dequantizeBlockwise(q, options);
    for (let r = 0; r < k; r++) {
      for (let c = 0; c < n; c++) {
        const scale = q.scales[c * 2 + (r >= 32 ? 1 : 0)];
        expect(Math.abs(back[r * n + c] - w[r * n + c])).toBeLessThanOrEqual(scale / 2 + 1e-6);
      }
    }
    // Padding past K (column 0, block 1, elements 8..31) holds the block's zero point.
    const zp1 = (q.zeroPoints as Uint8Array)[0] >> 4;
    const blockStart = 16;
    for (let e = 8; e < 32; e++) expect((q.packed[blockStart + (e >> 1)] >> ((e & 1) * 4)) & 0x0f).toBe(zp1);
  });

  it.each([true, false])('clip search lowers the squared error of normal weights by 5%% or more (symmetric %p)', (symmetric) => {
    const k = 256;
    const n = 16;
    // Block extremes of normal weights are rare: clipping them slightly buys resolution for the rest.
    const w = randomNormal(k * n, 21);
    const error = (clipSearch: boolean) => {
      const options = { bits: 4, blockSize: 32, symmetric, clipSearch };
      const back = dequantizeBlockwise(quantizeBlockwise(w, k, n, options), options);
      return back.reduce((sum, v, i) => sum + (v - w[i]) ** 2, 0);
    };
    expect(error(true)).toBeLessThan(error(false) * 0.95);
  });

  it('refuses block sizes that are not powers of two from 16 and odd widths', () => {
    expect(() => quantizeBlockwise(new Float32Array(32), 32, 1, { bits: 4, blockSize: 24, symmetric: true })).toThrow(RangeError);
    expect(() => quantizeBlockwise(new Float32Array(32), 32, 1, { bits: 3, blockSize: 32, symmetric: true })).toThrow(RangeError);
    expect(() => quantizeBlockwise(new Float32Array(31), 32, 1, { bits: 4, blockSize: 32, symmetric: true })).toThrow(RangeError);
  });
});

describe('MatMulNBits in onnxruntime', () => {
  it.each([
    [64, 8, 32, true], [40, 5, 32, false], [130, 7, 128, true], [96, 17, 64, false], [16, 3, 16, true],
  ])('K=%p N=%p block %p symmetric %p multiplies by the dequantized weights', async (k, n, blockSize, symmetric) => {
    const w = floats(k * n, k + n);
    const options = { bits: 4, blockSize, symmetric };
    const q = quantizeBlockwise(w, k, n, options);
    const g = new GraphBuilder();
    g.input('a', 'float32', [2, k]);
    const inputs = ['a',
      g.initializer('b', q.packed, [n, q.blocks, blockSize / 2]),
      g.initializer('scales', q.scales, [n, q.blocks])];
    if (q.zeroPoints) inputs.push(g.initializer('zp', q.zeroPoints, [n, Math.ceil(q.blocks / 2)]));
    g.node('MatMulNBits', inputs, ['y'], { K: k, N: n, bits: 4, block_size: blockSize }, 'com.microsoft');
    g.output('y', 'float32', [2, n]);
    const a = floats(2 * k, 99);
    const out = await runModel(g.build({ opset: 21 }), { a: new ort.Tensor('float32', a, [2, k]) });
    const dq = dequantizeBlockwise(q, options);
    const y = out.y.data as Float32Array;
    for (let r = 0; r < 2; r++) {
      for (let c = 0; c < n; c++) {
        let sum = 0;
        for (let i = 0; i < k; i++) sum += a[r * k + i] * dq[i * n + c];
        expect(y[r * n + c]).toBeCloseTo(sum, 4);
      }
    }
  });
});
