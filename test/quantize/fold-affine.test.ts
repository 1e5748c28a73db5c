// Static mode folds a Mul/Add by a constant after a Conv into the Conv (as PaddlePaddle's PP-LCNet
// writes a learnable affine after every conv): the float function is kept, and the quantized model has
// one requantization per conv where it had three.
import * as ort from 'onnxruntime-node';
import { GraphBuilder, serializeModel, type Model } from '../../lib/onnx';
import type { Feeds } from '../../lib/engine/tensor';
import { quantize } from '../../lib/quantize';
import { foldConvAffines } from '../../lib/quantize/fold-affine';
import { GraphScope } from '../../lib/quantize/graph-scope';
import { cosine, floats, opCounts } from './helpers';

/** x -> Conv(8) -> Mul(scalar) -> Add([8,1,1]) -> HardSwish-like Relu -> Conv(4, no bias) -> Mul([1,4,1,1]) -> y. */
function affineNet(): Model {
  const g = new GraphBuilder('affine_net');
  const x = g.input('x', 'float32', ['batch', 3, 12, 12]);
  const c1 = g.node('Conv', [x, g.initializer('w1', floats(8 * 3 * 9, 1), [8, 3, 3, 3]), g.initializer('b1', floats(8, 2), [8])], 1, { pads: [1, 1, 1, 1] });
  const scaled = g.node('Mul', [g.initializer('a1', Float32Array.of(1.7), []), c1]);
  const shifted = g.node('Add', [scaled, g.initializer('d1', floats(8, 3), [8, 1, 1])]);
  const c2 = g.node('Conv', [g.node('Relu', [shifted]), g.initializer('w2', floats(4 * 8, 4), [4, 8, 1, 1])]);
  g.output(g.node('Mul', [c2, g.initializer('a2', floats(4, 5).map((v) => v + 2), [1, 4, 1, 1])], ['y']), 'float32', ['batch', 4, 12, 12]);
  return g.build({ opset: 13 });
}

const images = (seed: number): Feeds => ({ x: { type: 'float32', dims: [2, 3, 12, 12], data: floats(2 * 3 * 144, seed) } });

async function run(model: Model, feeds: Feeds): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(serializeModel(model));
  try {
    const out = await session.run({ x: new ort.Tensor('float32', feeds.x.data as Float32Array, feeds.x.dims) });
    return out.y.data as Float32Array;
  } finally {
    await session.release();
  }
}

describe('Conv -> Mul/Add by a constant', () => {
  it('folds into the Conv with the float outputs unchanged', async () => {
    const source = affineNet();
    const folded = source.clone();
    expect(foldConvAffines(folded, new GraphScope(folded))).toBe(3);
    expect(opCounts(folded)).toEqual({ Conv: 2, Relu: 1 });
    const [a, b] = [await run(source, images(9)), await run(folded, images(9))];
    let diff = 0, scale = 0;
    for (let i = 0; i < a.length; i++) [diff, scale] = [Math.max(diff, Math.abs(a[i] - b[i])), Math.max(scale, Math.abs(a[i]))];
    expect(diff / scale).toBeLessThan(1e-5);
  });

  it('leaves a Mul whose constant is not per output channel, and a Conv output read twice', () => {
    const g = new GraphBuilder('not_foldable');
    const x = g.input('x', 'float32', [1, 2, 4, 4]);
    const c = g.node('Conv', [x, g.initializer('w', floats(2 * 2, 1), [2, 2, 1, 1])]);
    // [4] lines up with the width axis, not the channels.
    const m = g.node('Mul', [c, g.initializer('a', floats(4, 2), [4])]);
    const c2 = g.node('Conv', [m, g.initializer('w2', floats(2 * 2, 3), [2, 2, 1, 1])]);
    g.output(g.node('Add', [c2, g.node('Mul', [c2, g.initializer('k', Float32Array.of(2), [])])], ['y']), 'float32', [1, 2, 4, 4]);
    const model = g.build({ opset: 13 });
    expect(foldConvAffines(model, new GraphScope(model))).toBe(0);
  });

  it('static quantization folds them first: one requantization per conv, and closer to float', async () => {
    const source = affineNet();
    const calibration = [images(1), images(2), images(3)];
    const { model, report } = await quantize(source, { mode: 'static', calibration, verify: false });
    expect(report.affinesFolded).toBe(3);
    expect(opCounts(model).Mul).toBeUndefined();
    // Each conv output goes through one Q -> DQ pair (the Relu folded into the first's range).
    expect(opCounts(model).QuantizeLinear).toBe(3);
    const unfolded = await quantize(source, { mode: 'static', calibration, verify: false, foldBatchNorm: false });
    expect(unfolded.report.affinesFolded).toBe(0);
    const reference = await run(source, images(9));
    const [folded, plain] = [cosine(reference, await run(model, images(9))), cosine(reference, await run(unfolded.model, images(9)))];
    expect(1 - folded).toBeLessThanOrEqual(1 - plain);
  });
});
