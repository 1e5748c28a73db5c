// Static mode's full QDQ coverage on builder conv nets: int8 flows from op to op (Conv -> Add, the
// squeeze-excite Mul, pools, Flatten) with Relu/Clip folded into the producer's output range, and
// the result stays close to float in onnxruntime on images it was not calibrated on.
import * as fs from 'fs';
import * as path from 'path';
import * as ort from 'onnxruntime-node';
import { buildMobileNetV3Like, buildResNetLike, GraphBuilder, loadModel, MOBILENET_V3_SMALL_BLOCKS, serializeModel, type Model } from '../../lib/onnx';
import type { Feeds } from '../../lib/engine/tensor';
import { createRandom } from '../../lib/onnx/random';
import { quantize } from '../../lib/quantize';
import type { KernelSpeedTable } from '../../lib/quantize/kernel-speed';
import { makeTempDir, removeDir } from '../helpers/temp';
import { cosine, floats, opCounts } from './helpers';

const SIZE = 32;
/** Every quantized kernel counted as faster: structure tests do not depend on the measured table. */
const ALL_FASTER: KernelSpeedTable = { machine: 'test', onnxruntime: '', entries: [] };

/** `count` unit-variance images [count, 3, SIZE, SIZE] (what torchvision's normalisation gives). */
function images(count: number, seed: number): Float32Array {
  const next = createRandom(seed);
  return Float32Array.from({ length: count * 3 * SIZE * SIZE }, () => (next() + next() + next() - 1.5) * 2);
}
const batch = (count: number, seed: number): Feeds => ({ input: { type: 'float32', dims: [count, 3, SIZE, SIZE], data: images(count, seed) } });
const calibration = Array.from({ length: 8 }, (_, i) => batch(4, 100 + i));

let dir: string;
beforeAll(() => {
  dir = makeTempDir();
});
afterAll(() => removeDir(dir));

async function logits(model: Model, data: Float32Array, count: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(serializeModel(model));
  try {
    const out = await session.run({ input: new ort.Tensor('float32', data, [count, 3, SIZE, SIZE]) });
    return out[session.outputNames[0]].data as Float32Array;
  } finally {
    await session.release();
  }
}

/** Cosine over all logits and the share of images whose top class is the same, on held-out images. */
async function agreement(a: Model, b: Model, count: number, classes: number): Promise<{ cosine: number; top1: number }> {
  const data = images(count, 7);
  const [x, y] = [await logits(a, data, count), await logits(b, data, count)];
  const argmax = (v: Float32Array, row: number) => {
    let best = 0;
    for (let c = 1; c < classes; c++) if (v[row * classes + c] > v[row * classes + best]) best = c;
    return best;
  };
  let same = 0;
  for (let r = 0; r < count; r++) if (argmax(x, r) === argmax(y, r)) same++;
  return { cosine: cosine(x, y), top1: same / count };
}

/** The node types onnxruntime runs after its fusions (no layout changes). */
async function fusedOps(model: Model): Promise<Record<string, number>> {
  const file = path.join(dir, `fused-${Math.random().toString(36).slice(2)}.onnx`);
  const session = await ort.InferenceSession.create(serializeModel(model), { graphOptimizationLevel: 'extended', optimizedModelFilePath: file });
  await session.release();
  const fused = opCounts(loadModel(file));
  fs.rmSync(file);
  return fused;
}

const producerOf = (model: Model, name: string) => model.graph.node.find((n) => n.output.includes(name));

describe('ResNet-like', () => {
  const resnet = () => buildResNetLike({ height: SIZE, width: SIZE, widths: [16, 32, 64, 128], blocks: [1, 1, 1, 1], classes: 10 });

  it('int8 flows from the input Q to the last DQ: Conv -> Add with no float round trip, every Relu folded', async () => {
    const source = resnet();
    const { model, report } = await quantize(source, { mode: 'static', calibration, kernelSpeeds: ALL_FASTER, latencyRuns: 0, verifySamples: 1 });
    expect(opCounts(model).Relu).toBeUndefined();
    expect(report.quantized.filter((q) => /Relu folded/.test(q.detail))).toHaveLength(opCounts(source).Relu);
    // Each residual Add reads DQ(Q(Conv)) for its branch: one Q -> DQ pair, no float op in between.
    for (const add of model.graph.node.filter((n) => n.opType === 'Add')) {
      for (const input of add.input) {
        const dq = producerOf(model, input);
        expect(dq?.opType).toBe('DequantizeLinear');
        expect(producerOf(model, dq?.input[0] ?? '')?.opType).toBe('QuantizeLinear');
      }
    }
    const fused = await fusedOps(model);
    expect(fused).toMatchObject({ QuantizeLinear: 1, DequantizeLinear: 1, QLinearConv: 12, QLinearAdd: 4, QLinearGlobalAveragePool: 1, QGemm: 1 });
    expect(fused.Conv ?? 0).toBe(0);
    expect(fused.Add ?? 0).toBe(0);
  });

  it('static int8 against float on 100 held-out images: cosine >= 0.995, top-1 agreement >= 98%', async () => {
    const source = resnet();
    const { model } = await quantize(source, { mode: 'static', calibration, verify: false });
    const { cosine: c, top1 } = await agreement(source, model, 100, 10);
    expect(c).toBeGreaterThanOrEqual(0.995);
    expect(top1).toBeGreaterThanOrEqual(0.98);
  });
});

describe('MobileNetV3-like (depthwise, squeeze-excite, hard-swish as torch writes it before opset 14)', () => {
  const mobilenet = () => buildMobileNetV3Like({
    height: SIZE, width: SIZE, blocks: [0, 3, 4].map((i) => MOBILENET_V3_SMALL_BLOCKS[i]), classes: 10, headHidden: 128, lastChannels: 192, opset: 13,
  });

  it('quantizes the squeeze-excite gates and pools with int8 between them; each hard-swish runs whole between quantize pairs', async () => {
    const source = mobilenet();
    const { model, report } = await quantize(source, { mode: 'static', calibration, kernelSpeeds: ALL_FASTER, latencyRuns: 0, verifySamples: 1 });
    const byOp = (op: string, list = report.quantized) => list.filter((q) => q.opType === op).length;
    const blocksWithSe = 3;
    // Squeeze-excite: x * HardSigmoid(fc2(...)) with the gate quantized on its own (QLinearMul).
    expect(byOp('Mul')).toBe(blocksWithSe);
    expect(byOp('HardSigmoid')).toBe(blocksWithSe);
    expect(byOp('GlobalAveragePool')).toBe(opCounts(source).GlobalAveragePool);
    // Hard-swish x * HardSigmoid(x): both nodes float, one function of x between two quantize pairs.
    expect(report.skipped.length).toBeGreaterThan(0);
    expect(report.skipped.every((s) => /part of a hard-swish/.test(s.detail))).toBe(true);
    expect(byOp('Mul', report.skipped)).toBe(opCounts(source).Mul - blocksWithSe);
    expect(byOp('HardSigmoid', report.skipped)).toBe(opCounts(source).HardSigmoid - blocksWithSe);
    const fused = await fusedOps(model);
    expect(fused).toMatchObject({ QLinearMul: blocksWithSe, QLinearGlobalAveragePool: opCounts(source).GlobalAveragePool });
    expect(fused.QLinearConv).toBe(opCounts(source).Conv);
  });

  it('static int8 against float on 100 held-out images: cosine >= 0.995, top-1 agreement >= 98%', async () => {
    const source = mobilenet();
    const { model } = await quantize(source, { mode: 'static', calibration, verify: false });
    const { cosine: c, top1 } = await agreement(source, model, 100, 10);
    expect(c).toBeGreaterThanOrEqual(0.995);
    expect(top1).toBeGreaterThanOrEqual(0.98);
  });
});

describe('exporter patterns', () => {
  /** Conv -> x * Clip(x + 3, 0, 6) / 6 (paddle2onnx's hard-swish) -> Conv -> Relu6 (Clip 0..6) -> output. */
  function hardSwishNet(): Model {
    const g = new GraphBuilder();
    g.input('input', 'float32', [1, 4, 8, 8]);
    const conv = (x: string, seed: number) => g.node('Conv', [x, g.initializer(`w${seed}`, floats(8 * 4 * 9, seed).map((v) => v * 0.5), [8, 4, 3, 3]),
      g.initializer(`b${seed}`, floats(8, seed + 1), [8])], 1, { pads: [1, 1, 1, 1] });
    const x = conv('input', 1);
    const scalar = (name: string, v: number) => g.initializer(name, Float32Array.of(v), []);
    const clip = g.node('Clip', [g.node('Add', [x, scalar('three', 3)]), scalar('zero', 0), scalar('six', 6)]);
    const hs = g.node('Div', [g.node('Mul', [x, clip]), scalar('six_div', 6)]);
    const w2 = g.initializer('w2', floats(4 * 8 * 9, 3).map((v) => v * 0.3), [4, 8, 3, 3]);
    const y = g.node('Conv', [hs, w2], 1, { pads: [1, 1, 1, 1] });
    g.output(g.node('Clip', [y, scalar('lo', 0), scalar('hi', 6)], ['output']), 'float32');
    return g.build({ opset: 13 });
  }
  const samples = Array.from({ length: 4 }, (_, i) => ({ input: { type: 'float32' as const, dims: [1, 4, 8, 8], data: floats(256, 10 + i).map((v) => v * 3) } }));

  it('x * Clip(x + 3, 0, 6) / 6 becomes x * HardSigmoid(x), run whole between quantize pairs; the closing Relu6 is folded', async () => {
    const { model, report } = await quantize(hardSwishNet(), { mode: 'static', calibration: samples, kernelSpeeds: ALL_FASTER, latencyRuns: 0 });
    expect(report.hardSwishesRewritten).toBe(1);
    const ops = opCounts(model);
    expect(ops.Div).toBeUndefined();
    expect(ops.Clip).toBeUndefined();
    expect(ops.HardSigmoid).toBe(1);
    expect(report.quantized.find((q) => q.opType === 'Conv' && /Clip folded/.test(q.detail))).toBeDefined();
    expect(report.verification?.outputs[0].cosine).toBeGreaterThan(0.999);
  });
});
