// buildMobileNetV3Like writes torchvision's mobilenet_v3_small as torch.onnx.export does: depthwise
// convs, squeeze-excite, hard-swish as the HardSwish op from opset 14 and as x * HardSigmoid(x) before;
// it runs in onnxruntime at awkward sizes with unit-scale logits.
import { buildMobileNetV3Like, getAttribute, MOBILENET_V3_SMALL_BLOCKS, tensorDims, type Model } from '../../lib/onnx';
import { expectSaneLogits, opCounts, relativeMaxError, runNet, testImages } from './conv-nets';

type Node = Model['graph']['node'][number];
const weightDims = (model: Model, name: string) => tensorDims(model.graph.initializer.find((t) => t.name === name)!);
const producer = (model: Model, value: string) => model.graph.node.find((n) => n.output.includes(value))!;

describe('buildMobileNetV3Like', () => {
  test('defaults are MobileNetV3-small: 11 depthwise convs, 9 squeeze-excite blocks, 6 residual Adds', () => {
    const model = buildMobileNetV3Like();
    // Hard-swish at opset 13 is HardSigmoid + Mul: 19 of them beside the 9 squeeze-excite gates.
    expect(opCounts(model)).toEqual({ Conv: 52, Relu: 14, HardSigmoid: 28, Mul: 28, Add: 6, GlobalAveragePool: 10, Flatten: 1, Gemm: 2 });
    expect(model.inputs.map((v) => [v.name, v.dims])).toEqual([['input', ['batch', 3, 224, 224]]]);
    expect(model.outputs.map((v) => [v.name, v.dims])).toEqual([['logits', ['batch', 1000]]]);

    // Depthwise: group == channels == the weight's first dim, one input channel per group.
    const depthwise = model.graph.node.filter((n) => n.opType === 'Conv' && (getAttribute(n, 'group') as number) > 1);
    expect(depthwise.map((n) => getAttribute(n, 'group'))).toEqual(MOBILENET_V3_SMALL_BLOCKS.map((b) => b.expanded));
    for (const conv of depthwise) expect(weightDims(model, conv.input[1]).slice(0, 2)).toEqual([getAttribute(conv, 'group'), 1]);
    expect(depthwise.map((n) => (getAttribute(n, 'kernel_shape') as number[])[0])).toEqual(MOBILENET_V3_SMALL_BLOCKS.map((b) => b.kernel));
    expect(depthwise.map((n) => (getAttribute(n, 'strides') as number[])[0])).toEqual(MOBILENET_V3_SMALL_BLOCKS.map((b) => b.stride));
    expect(depthwise.map((n) => getAttribute(n, 'pads'))).toEqual(MOBILENET_V3_SMALL_BLOCKS.map((b) => Array(4).fill((b.kernel - 1) / 2)));

    // Squeeze-excite: pool -> fc1 -> Relu -> fc2 -> HardSigmoid(alpha 1/6), gating the depthwise activation it pooled.
    const gates = model.graph.node.filter((n) => n.opType === 'HardSigmoid' && n.output[0].includes('scale_activation'));
    expect(gates).toHaveLength(9);
    const squeezed: number[] = [];
    for (const gate of gates) {
      expect(getAttribute(gate, 'alpha')).toBeCloseTo(1 / 6, 7);
      const mul = model.graph.node.find((n) => n.opType === 'Mul' && n.input[0] === gate.output[0])!;
      const fc2 = producer(model, gate.input[0]);
      const fc1 = producer(model, producer(model, fc2.input[0]).input[0]);
      const pool = producer(model, fc1.input[0]);
      expect([fc2.opType, fc1.opType, pool.opType]).toEqual(['Conv', 'Conv', 'GlobalAveragePool']);
      expect(pool.input[0]).toBe(mul.input[1]);
      expect(fc1.input[1]).toMatch(/^features\.\d+\.block\.\d\.fc1\.weight$/);
      squeezed.push(weightDims(model, fc1.input[1])[0]);
    }
    // torchvision's _make_divisible(expanded // 4, 8).
    expect(squeezed).toEqual([8, 24, 64, 64, 32, 40, 72, 144, 144]);
    expect(gates[0].output[0]).toBe('/features/features.1/block/block.1/scale_activation/HardSigmoid_output_0');

    const adds = model.graph.node.filter((n) => n.opType === 'Add').map((n) => n.output[0]);
    expect(adds).toEqual([3, 5, 6, 8, 10, 11].map((i) => `/features/features.${i}/Add_output_0`));
    expect(weightDims(model, 'classifier.0.weight')).toEqual([1024, 576]);
    expect(weightDims(model, 'classifier.3.weight')).toEqual([1000, 1024]);
  });

  test('opset 14 writes hard-swish as the HardSwish op, and computes what the opset-13 decomposition does', async () => {
    const options = { size: 64, seed: 2 };
    const v13 = buildMobileNetV3Like({ ...options, opset: 13 });
    const v14 = buildMobileNetV3Like({ ...options, opset: 14 });
    expect(opCounts(v14)).toEqual({ Conv: 52, Relu: 14, HardSwish: 19, HardSigmoid: 9, Mul: 9, Add: 6, GlobalAveragePool: 10, Flatten: 1, Gemm: 2 });
    const stemSwish13 = producer(v13, '/features/features.0/features.0.2/Mul_output_0');
    expect(stemSwish13.input).toEqual(['/features/features.0/features.0.0/Conv_output_0', '/features/features.0/features.0.2/HardSigmoid_output_0']);
    expect(producer(v14, '/features/features.0/features.0.2/HardSwish_output_0').input).toEqual(['/features/features.0/features.0.0/Conv_output_0']);

    const dims = [3, 3, 64, 64];
    const images = testImages(dims, 5);
    const a = (await runNet(v13, images, dims)).logits.data;
    const b = (await runNet(v14, images, dims)).logits.data;
    expect(relativeMaxError(b, a)).toBeLessThan(1e-4);
    for (const opset of [11, 12, 15, 16, 17]) {
      const ops = opCounts(buildMobileNetV3Like({ size: 8, opset }));
      expect(ops).toEqual(opset < 14 ? opCounts(v13) : opCounts(v14));
    }
  });

  test.each([
    [{ size: 224 }, [3, 224, 224]],
    [{ size: 96 }, [3, 96, 96]],
    [{ size: 33 }, [3, 33, 33]],
    [{ height: 15, width: 17 }, [3, 15, 17]],
  ])('%j runs at batches 1 and 3 with unit-scale, image-dependent logits', async (size, imageDims) => {
    await expectSaneLogits(buildMobileNetV3Like({ ...size, seed: 3 }), imageDims, 3, 1000, [0.2, 5]);
  });

  test('logits stay at unit scale whatever the seed, width and head', async () => {
    for (const options of [{ seed: 11 }, { seed: 12, widthMultiplier: 0.5, headHidden: 0, classes: 10 }, { seed: 13, widthMultiplier: 1.5 }]) {
      const model = buildMobileNetV3Like({ size: 48, ...options });
      await expectSaneLogits(model, [3, 48, 48], 3, options.classes ?? 1000, [0.2, 5]);
    }
  });

  test('widthMultiplier, explicit blocks, lastChannels and headHidden shape the net', () => {
    const half = buildMobileNetV3Like({ size: 32, widthMultiplier: 0.5, classes: 10 });
    const stem = half.graph.node.find((n) => n.opType === 'Conv')!;
    expect(weightDims(half, stem.input[1])).toEqual([8, 3, 3, 3]);
    // Channels rounded to multiples of 8 as torchvision does: 48 * 0.5 = 24, 96 * 0.5 = 48, 576 * 0.5 = 288, 1024 * 0.5 = 512.
    expect(weightDims(half, 'classifier.0.weight')).toEqual([512, 288]);
    expect(weightDims(half, 'classifier.3.weight')).toEqual([10, 512]);

    const blocks = [
      { kernel: 3, expanded: 16, out: 16, se: false, activation: 'relu' as const, stride: 1 },
      { kernel: 5, expanded: 64, out: 24, se: true, activation: 'hardswish' as const, stride: 2 },
    ];
    const small = buildMobileNetV3Like({ size: 32, blocks, lastChannels: 96, headHidden: 0, classes: 7, opset: 14 });
    // stem, block 1 (depthwise, project: no expansion), block 2 (expand, depthwise, fc1, fc2, project), last conv.
    expect(opCounts(small)).toMatchObject({ Conv: 1 + 2 + 5 + 1, Add: 1, Gemm: 1, GlobalAveragePool: 2, HardSwish: 4 });
    expect(weightDims(small, 'classifier.0.weight')).toEqual([7, 96]);
    expect(small.graph.node.find((n) => n.opType === 'Gemm')!.output[0]).toBe('logits');
  });

  test("'separate' keeps a BatchNormalization after each conv but the squeeze-excite ones, computing what 'folded' computes", async () => {
    const options = { size: 40, seed: 6, widthMultiplier: 0.75 };
    const folded = buildMobileNetV3Like(options);
    const separate = buildMobileNetV3Like({ ...options, batchNorm: 'separate' });
    expect(opCounts(separate)).toEqual({ ...opCounts(folded), BatchNormalization: 52 - 18 });
    const bn = (n: Node) => n.opType === 'BatchNormalization';
    expect(separate.graph.node.find(bn)!.input).toEqual([
      '/features/features.0/features.0.0/Conv_output_0', 'features.0.1.weight', 'features.0.1.bias', 'features.0.1.running_mean', 'features.0.1.running_var',
    ]);
    const dims = [3, 3, 40, 40];
    const images = testImages(dims, 8);
    const a = (await runNet(folded, images, dims, { graphOptimizationLevel: 'disabled' })).logits.data;
    const b = (await runNet(separate, images, dims, { graphOptimizationLevel: 'disabled' })).logits.data;
    expect(relativeMaxError(b, a)).toBeLessThan(1e-4);
  });

  test('the seed alone decides the weights; bad options are refused', () => {
    const weights = (seed: number) => buildMobileNetV3Like({ size: 16, widthMultiplier: 0.25, seed }).graph.initializer.map((t) => Buffer.from(t.rawData).toString('base64'));
    expect(weights(4)).toEqual(weights(4));
    expect(weights(5)).not.toEqual(weights(4));
    expect(() => buildMobileNetV3Like({ opset: 18 })).toThrow(RangeError);
    expect(() => buildMobileNetV3Like({ widthMultiplier: 0 })).toThrow(RangeError);
    expect(() => buildMobileNetV3Like({ blocks: [] })).toThrow(RangeError);
    expect(() => buildMobileNetV3Like({ headHidden: -1 })).toThrow(RangeError);
    expect(() => buildMobileNetV3Like({ width: 0 })).toThrow(RangeError);
  });
});
