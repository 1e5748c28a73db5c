// buildResNetLike writes torchvision's resnet18 as torch.onnx.export does (stem, BasicBlocks with
// stride-2 downsampling, Gemm head), runs in onnxruntime at awkward sizes, and its 'separate' form
// (Conv + BatchNormalization) computes what the 'folded' form does.
import { buildResNetLike, getAttribute, tensorDims, type Model } from '../../lib/onnx';
import { expectSaneLogits, opCounts, relativeMaxError, runNet, testImages } from './conv-nets';

const convs = (model: Model) => model.graph.node.filter((n) => n.opType === 'Conv');
const strides = (node: Model['graph']['node'][number]) => getAttribute(node, 'strides') as number[];
const weightDims = (model: Model, name: string) => tensorDims(model.graph.initializer.find((t) => t.name === name)!);

describe('buildResNetLike', () => {
  test('defaults are ResNet-18: 20 convs, 8 residual Adds, downsampling exactly where a stage halves the size', () => {
    const model = buildResNetLike();
    expect(opCounts(model)).toEqual({ Conv: 20, Relu: 17, MaxPool: 1, Add: 8, GlobalAveragePool: 1, Flatten: 1, Gemm: 1 });
    expect(model.inputs.map((v) => [v.name, v.dims])).toEqual([['input', ['batch', 3, 224, 224]]]);
    expect(model.outputs.map((v) => [v.name, v.dims])).toEqual([['logits', ['batch', 1000]]]);
    expect(model.opsetVersion()).toBe(13);
    expect(model.proto.producerName).toBe('pytorch');

    const [stem] = convs(model);
    expect(stem.output[0]).toBe('/conv1/Conv_output_0');
    expect([getAttribute(stem, 'kernel_shape'), strides(stem), getAttribute(stem, 'pads')]).toEqual([[7, 7], [2, 2], [3, 3, 3, 3]]);
    const pool = model.graph.node.find((n) => n.opType === 'MaxPool')!;
    expect([getAttribute(pool, 'kernel_shape'), getAttribute(pool, 'strides'), getAttribute(pool, 'pads')]).toEqual([[3, 3], [2, 2], [1, 1, 1, 1]]);

    // Stride 2 only in the stem and the first block of stages 2-4, whose conv1 and 1x1 downsample both halve.
    const strided = convs(model).filter((n) => strides(n)[0] === 2).map((n) => n.output[0]);
    expect(strided).toEqual([
      '/conv1/Conv_output_0',
      ...[2, 3, 4].flatMap((s) => [`/layer${s}/layer${s}.0/conv1/Conv_output_0`, `/layer${s}/layer${s}.0/downsample/downsample.0/Conv_output_0`]),
    ]);
    const downsamples = convs(model).filter((n) => n.output[0].includes('downsample'));
    for (const d of downsamples) expect(getAttribute(d, 'kernel_shape')).toEqual([1, 1]);
    // Each Add sums conv2 with the block input, or with the downsample in those three blocks.
    const adds = model.graph.node.filter((n) => n.opType === 'Add');
    expect(adds.map((n) => n.input[0])).toEqual(adds.map((n) => n.output[0].replace('Add_output_0', 'conv2/Conv_output_0')));
    expect(adds.filter((n) => n.input[1].includes('downsample')).map((n) => n.output[0])).toEqual(
      [2, 3, 4].map((s) => `/layer${s}/layer${s}.0/Add_output_0`));
    expect(model.graph.node.filter((n) => n.opType === 'Relu').pop()!.output[0]).toBe('/layer4/layer4.1/relu_1/Relu_output_0');

    // Folded BatchNorm: conv weights and biases are the exporter's unscoped onnx::Conv_* values.
    expect(convs(model).every((n) => n.input.length === 3 && n.input.slice(1).every((i) => i.startsWith('onnx::Conv_')))).toBe(true);
    expect(weightDims(model, stem.input[1])).toEqual([64, 3, 7, 7]);
    expect(weightDims(model, 'fc.weight')).toEqual([1000, 512]);
    expect(getAttribute(model.graph.node.find((n) => n.opType === 'Gemm')!, 'transB')).toBe(1);
  });

  test('widths and blocks shape the stages', () => {
    const model = buildResNetLike({ widths: [8, 16, 32], blocks: [1, 2, 1], classes: 5, size: 32 });
    expect(opCounts(model)).toMatchObject({ Conv: 1 + 2 * 4 + 2, Add: 4 });
    expect(convs(model).filter((n) => n.output[0].includes('downsample')).map((n) => weightDims(model, n.input[1]))).toEqual([[16, 8, 1, 1], [32, 16, 1, 1]]);
    expect(weightDims(model, 'fc.weight')).toEqual([5, 32]);
  });

  // Default widths at every size: the sizes shrink to 1x1 before the head at 33 and 15x17.
  test.each([
    [{ size: 224 }, [3, 224, 224]],
    [{ size: 96 }, [3, 96, 96]],
    [{ size: 33 }, [3, 33, 33]],
    [{ height: 15, width: 17 }, [3, 15, 17]],
  ])('%j runs at batches 1 and 3 with unit-scale, image-dependent logits', async (size, imageDims) => {
    const model = buildResNetLike({ ...size, seed: 3 });
    await expectSaneLogits(model, imageDims, 3, 1000, [0.3, 3]);
  });

  test('a fixed batch size and a small class count', async () => {
    const model = buildResNetLike({ size: 32, batch: 2, classes: 10, widths: [16, 32, 64, 128] });
    expect(model.inputs[0].dims).toEqual([2, 3, 32, 32]);
    await expectSaneLogits(model, [3, 32, 32], 2, 10, [0.2, 5]);
  });

  test("'separate' keeps a BatchNormalization after every conv and computes what 'folded' computes", async () => {
    for (const opset of [13, 17]) {
      const options = { size: 40, widths: [16, 32, 48, 64], seed: 9, opset };
      const folded = buildResNetLike(options);
      const separate = buildResNetLike({ ...options, batchNorm: 'separate' });
      expect(opCounts(separate)).toEqual({ ...opCounts(folded), BatchNormalization: 20 });
      const bns = separate.graph.node.filter((n) => n.opType === 'BatchNormalization');
      expect(bns[0].input).toEqual(['/conv1/Conv_output_0', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var']);
      expect(bns.map((n) => n.output[0])).toContain('/layer2/layer2.0/downsample/downsample.1/BatchNormalization_output_0');
      // torch writes training_mode from opset 14 on, where BatchNormalization-14 has it.
      expect(bns.every((n) => getAttribute(n, 'training_mode') === (opset >= 14 ? 0 : undefined))).toBe(true);
      expect(convs(separate).every((n) => n.input.length === 2 && n.input[1].endsWith('.weight'))).toBe(true);

      const dims = [3, 3, 40, 40];
      const images = testImages(dims, 4);
      // Optimizations off, so onnxruntime runs the BatchNormalization nodes rather than folding them itself.
      const a = (await runNet(folded, images, dims, { graphOptimizationLevel: 'disabled' })).logits.data;
      const b = (await runNet(separate, images, dims, { graphOptimizationLevel: 'disabled' })).logits.data;
      expect(relativeMaxError(b, a)).toBeLessThan(1e-4);
    }
  });

  test('opsets 11..17 write the same graph; the seed alone decides the weights', () => {
    const ops = (opset: number) => buildResNetLike({ size: 32, widths: [8, 8, 8, 8], opset }).graph.node.map((n) => [n.opType, n.output[0], n.attribute.map((x) => x.name)]);
    for (const opset of [11, 12, 14, 15, 16, 17]) expect(ops(opset)).toEqual(ops(13));
    const weights = (seed: number) => buildResNetLike({ size: 32, widths: [8, 8, 8, 8], seed }).graph.initializer.map((t) => Buffer.from(t.rawData).toString('base64'));
    expect(weights(1)).toEqual(weights(1));
    expect(weights(2)).not.toEqual(weights(1));
  });

  test('bad options are refused', () => {
    expect(() => buildResNetLike({ opset: 10 })).toThrow(RangeError);
    expect(() => buildResNetLike({ widths: [8, 16], blocks: [1] })).toThrow(RangeError);
    expect(() => buildResNetLike({ widths: [], blocks: [] })).toThrow(RangeError);
    expect(() => buildResNetLike({ size: 0 })).toThrow(RangeError);
    expect(() => buildResNetLike({ height: 15.5 })).toThrow(RangeError);
    expect(() => buildResNetLike({ classes: 0 })).toThrow(RangeError);
  });
});
