// buildConvOpsNet puts the CNN op set's less common forms in one small graph (Pad modes, LeakyRelu,
// grouped and dilated convs, pooling modes, a fire module's Concat, ConvTranspose, Resize) and their
// 1-D forms; onnxruntime runs it at even, odd and minimal sizes with the shapes those ops promise.
import { buildConvOpsNet, getAttribute, tensorDims, tensorValues, type ConvOpsNetOptions, type Model, type proto } from '../../lib/onnx';
import { expectSaneLogits, exposing, opCounts, relativeMaxError, runNet, testImages } from './conv-nets';

type Node = Model['graph']['node'][number];
type TensorProto = proto.TensorProto;
const nodes = (model: Model, op: string) => model.graph.node.filter((n) => n.opType === op);
const attrs = (node: Node, names: string[]) => names.map((name) => getAttribute(node, name));
const constant = (model: Model, name: string) => Array.from(tensorValues(getAttribute(model.graph.node.find((n) => n.output[0] === name)!, 'value') as TensorProto) as ArrayLike<unknown>);
const weightDims = (model: Model, name: string) => tensorDims(model.graph.initializer.find((t) => t.name === name)!);

/** Dims of the intermediate values `names` in a run on a batch of 2. */
async function shapesOf(model: Model, inputDims: number[], names: string[]): Promise<number[][]> {
  const dims = [2, ...inputDims];
  const outputs = await runNet(exposing(model, names), testImages(dims, 3), dims);
  return names.map((name) => outputs[name].dims);
}

describe('buildConvOpsNet', () => {
  test('the image net holds each op form once, with the attributes that select it', () => {
    const model = buildConvOpsNet();
    expect(opCounts(model)).toEqual({
      Constant: 5, Pad: 2, Conv: 8, LeakyRelu: 1, Relu: 5, MaxPool: 1, AveragePool: 3, Concat: 2, ConvTranspose: 1, Resize: 2,
      GlobalAveragePool: 1, Flatten: 1, Gemm: 1,
    });
    expect(model.inputs.map((v) => [v.name, v.dims])).toEqual([['input', ['batch', 4, 16, 16]]]);

    const [constantPad, reflectPad] = nodes(model, 'Pad');
    expect([getAttribute(constantPad, 'mode'), getAttribute(reflectPad, 'mode')]).toEqual(['constant', 'reflect']);
    expect(constant(model, constantPad.input[1])).toEqual([0n, 0n, 1n, 1n, 0n, 0n, 1n, 1n]);
    expect(constant(model, constantPad.input[2])).toEqual([0.5]);
    expect(reflectPad.input).toHaveLength(2);
    expect(getAttribute(nodes(model, 'LeakyRelu')[0], 'alpha')).toBeCloseTo(0.1, 7);

    // Grouped, not depthwise: 4 and 2 groups of several channels each.
    const grouped = nodes(model, 'Conv').filter((n) => (getAttribute(n, 'group') as number) > 1);
    expect(grouped.map((n) => [getAttribute(n, 'group'), weightDims(model, n.input[1])])).toEqual([[4, [16, 4, 3, 3]], [2, [16, 4, 3, 3]]]);
    expect(attrs(nodes(model, 'MaxPool')[0], ['dilations', 'kernel_shape', 'pads', 'strides'])).toEqual([[2, 2], [3, 3], [2, 2, 2, 2], [1, 1]]);
    // (ceil_mode, count_include_pad, pads): ceil on an unpadded stride-2 window, then padded windows counting the pad and not.
    expect(nodes(model, 'AveragePool').map((n) => attrs(n, ['ceil_mode', 'count_include_pad', 'pads']))).toEqual([
      [1, 0, [0, 0, 0, 0]], [0, 1, [1, 1, 1, 1]], [0, 0, [1, 1, 1, 1]],
    ]);
    expect(attrs(nodes(model, 'ConvTranspose')[0], ['kernel_shape', 'strides', 'group'])).toEqual([[2, 2], [2, 2], 1]);
    expect(weightDims(model, 'up.transposed.weight')).toEqual([32, 16, 2, 2]);
    expect(nodes(model, 'Resize').map((n) => attrs(n, ['mode', 'coordinate_transformation_mode', 'nearest_mode']))).toEqual([
      ['nearest', 'asymmetric', 'floor'], ['linear', 'pytorch_half_pixel', 'floor'],
    ]);
    // The fire module concatenates its expand1x1 and expand3x3 branches.
    expect(nodes(model, 'Concat')[0].input).toEqual(['/fire/expand1x1_activation/Relu_output_0', '/fire/expand3x3_activation/Relu_output_0']);
  });

  test('the ops give the shapes they promise: ceil mode keeps the partial window, upsampling doubles', async () => {
    const names = ['/dilated_pool/MaxPool_output_0', '/down/AveragePool_output_0', '/fire/Concat_output_0', '/up/Concat_output_0', '/reduce/AveragePool_output_0'];
    // 16: (16 - 3) / 2 rounded up, + 1 = 8 (rounded down it would be 7); 15 x 17: 7 x 8, upsampled to 14 x 16.
    expect(await shapesOf(buildConvOpsNet(), [4, 16, 16], names)).toEqual([[2, 16, 16, 16], [2, 16, 8, 8], [2, 32, 8, 8], [2, 48, 16, 16], [2, 48, 8, 8]]);
    expect(await shapesOf(buildConvOpsNet({ height: 15, width: 17 }), [4, 15, 17], names)).toEqual([[2, 16, 15, 17], [2, 16, 7, 8], [2, 32, 7, 8], [2, 48, 14, 16], [2, 48, 7, 8]]);
  });

  test.each<[ConvOpsNetOptions, number[]]>([
    [{}, [4, 16, 16]],
    [{ height: 15, width: 17 }, [4, 15, 17]],
    [{ size: 33, channels: 3, classes: 5 }, [3, 33, 33]],
    [{ size: 4 }, [4, 4, 4]],
  ])('image %j runs at batches 1 and 3', async (options, dims) => {
    await expectSaneLogits(buildConvOpsNet({ seed: 1, ...options }), dims, 3, options.classes ?? 10, [0.05, 5]);
  });

  test('opsets 11..17 compute the same; before 13 Resize gets an empty roi Constant, from 13 none', async () => {
    const dims = [2, 4, 12, 12];
    const images = testImages(dims, 6);
    const reference = (await runNet(buildConvOpsNet({ size: 12, opset: 13 }), images, dims)).logits.data;
    for (const opset of [11, 12, 14, 17]) {
      const model = buildConvOpsNet({ size: 12, opset });
      const roi = nodes(model, 'Resize')[0].input[1];
      expect(opset < 13 ? constant(model, roi) : roi).toEqual(opset < 13 ? [] : '');
      expect(relativeMaxError((await runNet(model, images, dims)).logits.data, reference)).toBeLessThan(1e-5);
    }
  });

  test('the signal net has the 1-D forms: Conv1d, dilated grouped Conv1d on a reflect pad, pooling, ConvTranspose1d', async () => {
    const model = buildConvOpsNet({ layout: 'signal' });
    expect(model.inputs.map((v) => [v.name, v.dims])).toEqual([['input', ['batch', 4, 64]]]);
    expect(nodes(model, 'Conv').map((n) => attrs(n, ['kernel_shape', 'dilations', 'group', 'pads']))).toEqual([
      [[5], [1], 1, [2, 2]], [[3], [2], 2, [0, 0]], [[1], [1], 1, [0, 0]], [[3], [1], 1, [1, 1]],
    ]);
    expect(getAttribute(nodes(model, 'Pad')[0], 'mode')).toBe('reflect');
    expect(getAttribute(nodes(model, 'MaxPool')[0], 'dilations')).toEqual([2]);
    expect(attrs(nodes(model, 'ConvTranspose')[0], ['kernel_shape', 'strides'])).toEqual([[2], [2]]);
    // ceil((101 - 2) / 2) + 1 = 51 (rounded down 50), doubled by the transposed conv.
    const names = ['/down/AveragePool_output_0', '/up/ConvTranspose_output_0'];
    expect(await shapesOf(buildConvOpsNet({ layout: 'signal', length: 101 }), [4, 101], names)).toEqual([[2, 16, 51], [2, 32, 102]]);
  });

  test.each([64, 101, 3])('signal of length %i runs at batches 1 and 3', async (length) => {
    await expectSaneLogits(buildConvOpsNet({ layout: 'signal', length, seed: 2 }), [4, length], 3, 10, [0.05, 5]);
  });

  test('sizes the layers cannot take and bad options are refused', () => {
    expect(() => buildConvOpsNet({ size: 3 })).toThrow(RangeError);
    expect(() => buildConvOpsNet({ layout: 'signal', length: 2 })).toThrow(RangeError);
    expect(() => buildConvOpsNet({ opset: 10 })).toThrow(RangeError);
    expect(() => buildConvOpsNet({ channels: 0 })).toThrow(RangeError);
  });
});
