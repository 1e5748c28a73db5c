// Scale/zero-point choice and rounding, checked against ONNX QuantizeLinear as onnxruntime runs it.
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../../lib/onnx';
import {
  dequantizeTensor, quantRange, quantizeTensor, quantizeValue, roundHalfEven, scaleZeroPoint,
} from '../../lib/quantize/quant-math';
import { floats, runModel } from './helpers';

describe('roundHalfEven', () => {
  it.each([[0.5, 0], [1.5, 2], [2.5, 2], [-0.5, 0], [-1.5, -2], [-2.5, -2], [2.4999, 2], [2.5001, 3], [-3.7, -4], [7, 7]])(
    'rounds %p to %p', (x, expected) => expect(roundHalfEven(x) + 0).toBe(expected));
});

describe('scaleZeroPoint', () => {
  it('widens the range to include zero so that 0.0 is exact', () => {
    const { scale, zeroPoint } = scaleZeroPoint(2, 6, quantRange('uint8'), false);
    expect(scale).toBeCloseTo(6 / 255, 7);
    expect(zeroPoint).toBe(0);
    expect((0 - zeroPoint) * scale).toBe(0);
  });

  it('puts the zero point inside the range for asymmetric uint8', () => {
    const { scale, zeroPoint } = scaleZeroPoint(-1, 3, quantRange('uint8'), false);
    expect(scale).toBeCloseTo(4 / 255, 7);
    expect(zeroPoint).toBe(64);
  });

  it('centres symmetric int8 on 0 with the range [-127, 127]', () => {
    expect(quantRange('int8', { symmetric: true })).toEqual({ qmin: -127, qmax: 127 });
    const { scale, zeroPoint } = scaleZeroPoint(-0.5, 2, quantRange('int8', { symmetric: true }), true);
    expect(zeroPoint).toBe(0);
    expect(scale).toBeCloseTo(4 / 254, 7);
  });

  it('centres symmetric uint8 on 128 and keeps one bit free with reduceRange', () => {
    expect(scaleZeroPoint(-1, 1, quantRange('uint8'), true).zeroPoint).toBe(128);
    expect(quantRange('uint8', { reduceRange: true })).toEqual({ qmin: 0, qmax: 127 });
    expect(quantRange('int8', { reduceRange: true })).toEqual({ qmin: -64, qmax: 64 });
  });

  it('gives scale 1 for an all-zero tensor and refuses non-finite ranges', () => {
    expect(scaleZeroPoint(0, 0, quantRange('int8', { symmetric: true }), true)).toEqual({ scale: 1, zeroPoint: 0 });
    expect(() => scaleZeroPoint(-Infinity, 1, quantRange('uint8'), false)).toThrow(RangeError);
  });
});

describe('quantizeValue', () => {
  async function ortQuantize(x: Float32Array, scale: number, zeroPoint: number, type: 'uint8' | 'int8'): Promise<number[]> {
    const g = new GraphBuilder();
    g.input('x', 'float32', [x.length]);
    const s = g.initializer('s', Float32Array.of(scale), []);
    const z = g.initializer('z', type === 'uint8' ? Uint8Array.of(zeroPoint) : Int8Array.of(zeroPoint), [], type);
    g.output(g.node('QuantizeLinear', ['x', s, z], ['y']), type, [x.length]);
    const out = await runModel(g.build({ opset: 13 }), { x: new ort.Tensor('float32', x, [x.length]) });
    return Array.from(out.y.data as Uint8Array | Int8Array);
  }

  it.each([['uint8', 0.1, 128], ['int8', 0.05, 0], ['int8', 0.0372, -3]] as const)(
    'matches onnxruntime QuantizeLinear for %s (ties, saturation)', async (type, scale, zeroPoint) => {
      const ties = Float32Array.from([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5], (k) => Math.fround(k * scale));
      const x = Float32Array.from([...ties, ...floats(200, 7).map((v) => v * 20), 1e9, -1e9, 0]);
      const mine = Array.from(x, (v) => quantizeValue(v, scale, zeroPoint, type));
      expect(mine).toEqual(await ortQuantize(x, scale, zeroPoint, type));
    });
});

describe('quantizeTensor', () => {
  it('per channel keeps every element within half a step of its channel', () => {
    const dims = [3, 4, 5];
    const data = floats(60, 3).map((v, i) => v * (1 + Math.floor(i / 20) * 10));
    const q = quantizeTensor(data, dims, { type: 'int8', symmetric: true, axis: 0 });
    expect(q.scales).toHaveLength(3);
    expect(Array.from(q.zeroPoints)).toEqual([0, 0, 0]);
    const back = dequantizeTensor(q);
    data.forEach((v, i) => expect(Math.abs(back[i] - v)).toBeLessThanOrEqual(q.scales[Math.floor(i / 20)] / 2 + 1e-7));
  });

  it('per channel on a middle axis and per tensor agree on layout', () => {
    const dims = [2, 3, 2];
    const data = Float32Array.from({ length: 12 }, (_, i) => i - 6);
    const perAxis = quantizeTensor(data, dims, { type: 'uint8', symmetric: false, axis: 1 });
    const back = dequantizeTensor(perAxis);
    data.forEach((v, i) => expect(back[i]).toBeCloseTo(v, 1));
    const perTensor = quantizeTensor(data, dims, { type: 'uint8', symmetric: false });
    expect(perTensor.scales).toHaveLength(1);
    expect(() => quantizeTensor(data, dims, { type: 'int8', symmetric: true, axis: 3 })).toThrow(RangeError);
  });
});
