// The probe forward pass that sets MobileNetV3's BatchNorm statistics computes what onnxruntime
// computes: its conv matches Conv on awkward shapes, and the built net gives logits of rms 1 on the
// probe batch, as the builder aimed for.
import { buildMobileNetV3Like, GraphBuilder, randomNormal } from '../../lib/onnx';
import type { ConvShape } from '../../lib/onnx/models/conv-geometry';
import { convAttributes } from '../../lib/onnx/models/export-conv';
import { probeConv } from '../../lib/onnx/models/probe';
import { probeImages } from '../../lib/onnx/models/probed-layers';
import { relativeMaxError, runNet } from './conv-nets';

describe('probe forward pass', () => {
  test.each<[ConvShape, number[]]>([
    [{ inChannels: 6, outChannels: 4, kernel: [3, 3], stride: 2, pad: 1, group: 2 }, [15, 17]],
    [{ inChannels: 8, outChannels: 8, kernel: [5, 5], stride: 1, pad: 2, group: 8 }, [7, 6]],
    [{ inChannels: 3, outChannels: 5, kernel: [3, 1], stride: 1, pad: 0, dilation: 2 }, [9, 4]],
    [{ inChannels: 4, outChannels: 6, kernel: [1, 1] }, [1, 1]],
  ])('conv %j on %j matches onnxruntime', async (shape, size) => {
    const batch = 2;
    const groupIn = shape.inChannels / (shape.group ?? 1);
    const weight = randomNormal(shape.outChannels * groupIn * shape.kernel[0] * shape.kernel[1], 1);
    const input = probeImages(batch, shape.inChannels, size, 2);
    const g = new GraphBuilder('conv');
    const w = g.initializer('w', weight, [shape.outChannels, groupIn, ...shape.kernel]);
    g.node('Conv', [g.input('input', 'float32', [batch, shape.inChannels, ...size]), w], ['y'], convAttributes(shape));
    g.output('y', 'float32');
    const ort = (await runNet(g.build({ opset: 13 }), input.data, [batch, shape.inChannels, ...size])).y;
    const ours = probeConv(input, weight, shape);
    expect([ours.batch, ours.channels, ...ours.size]).toEqual(ort.dims);
    expect(relativeMaxError(ours.data, ort.data)).toBeLessThan(1e-5);
  });

  // The probe batch: one 224 x 224 image (7 x 7 = 49 values per channel at the end), or 16 at 15 x 17 (1 x 1 at the end).
  test.each<[{ size?: number; height?: number; width?: number }, number, number[]]>([
    [{ size: 224 }, 1, [224, 224]],
    [{ height: 15, width: 17 }, 16, [15, 17]],
  ])('%j: the logits on the probe batch have rms 1', async (size, count, spatial) => {
    const seed = 4;
    const model = buildMobileNetV3Like({ ...size, seed, batchNorm: 'separate' });
    const probe = probeImages(count, 3, spatial, seed);
    const logits = (await runNet(model, probe.data, [count, 3, ...spatial])).logits.data;
    const rms = Math.sqrt(logits.reduce((s, v) => s + v * v, 0) / logits.length);
    expect(rms).toBeCloseTo(1, 3);
  });
});
