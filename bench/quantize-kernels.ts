// Measures, per op type, whether onnxruntime-node's quantized kernel beats its float kernel on this
// CPU: one op on a typical shape, float against its quantized form. Static: int8 in, int8 out (the
// QDQ pair around the op fused into its QLinear kernel, or left as DQ + float op + Q where onnxruntime
// has none), as the op runs inside an int8 flow. Dynamic: float in and out. The result is the table
// quantize consults (lib/quantize/kernel-speed-table.json) to keep slower op types in float.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ort from 'onnxruntime-node';
import type { Feeds, HostTensor } from '../lib/engine/tensor';
import { OrtEngine } from '../lib/engine/ort-engine';
import type { EngineOptions } from '../lib/engine/engine';
import { attr, GraphBuilder, loadModel, serializeModel, type Model } from '../lib/onnx';
import { createRandom } from '../lib/onnx/random';
import { quantize } from '../lib/quantize';
import type { KernelSpeedEntry } from '../lib/quantize/kernel-speed';
import { timeInterleaved } from './timing';

interface Case {
  mode: 'static' | 'dynamic';
  opType: string;
  build: () => Model;
}

function randomFloats(count: number, seed: number, scale = 1): Float32Array {
  const next = createRandom(seed);
  return Float32Array.from({ length: count }, () => (next() * 2 - 1) * scale);
}

const count = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** One op reading float inputs of the given shapes (constants as initializers), opset 14. */
function single(op: string, inputs: number[][], attrs: Parameters<GraphBuilder['node']>[3] = {}, constants: { name: string; data: Float32Array | BigInt64Array; dims: number[] }[] = []): Model {
  const g = new GraphBuilder();
  const names = inputs.map((dims, i) => g.input(`x${i}`, 'float32', dims));
  for (const c of constants) names.push(g.initializer(c.name, c.data, c.dims));
  g.output(g.node(op, names, ['y'], attrs), 'float32');
  return g.build({ opset: 14 });
}

const IMAGE = [1, 64, 56, 56];
const conv = () => single('Conv', [IMAGE], { pads: [1, 1, 1, 1] }, [{ name: 'w', data: randomFloats(64 * 64 * 9, 1, 0.05), dims: [64, 64, 3, 3] }, { name: 'b', data: randomFloats(64, 2, 0.1), dims: [64] }]);
const matmul = () => single('MatMul', [[1, 128, 768]], {}, [{ name: 'w', data: randomFloats(768 * 768, 3, 0.04), dims: [768, 768] }]);
const gemm = () => single('Gemm', [[8, 1024]], { transB: 1 }, [{ name: 'w', data: randomFloats(1000 * 1024, 4, 0.03), dims: [1000, 1024] }, { name: 'b', data: randomFloats(1000, 5, 0.1), dims: [1000] }]);

const CASES: Case[] = [
  { mode: 'static', opType: 'Conv', build: conv },
  { mode: 'static', opType: 'MatMul', build: matmul },
  { mode: 'static', opType: 'Gemm', build: gemm },
  { mode: 'static', opType: 'Add', build: () => single('Add', [IMAGE, IMAGE]) },
  { mode: 'static', opType: 'Mul', build: () => single('Mul', [IMAGE, [1, 64, 1, 1]]) },
  { mode: 'static', opType: 'Sigmoid', build: () => single('Sigmoid', [IMAGE]) },
  { mode: 'static', opType: 'HardSigmoid', build: () => single('HardSigmoid', [IMAGE], { alpha: attr.float(1 / 6), beta: attr.float(0.5) }) },
  { mode: 'static', opType: 'HardSwish', build: () => single('HardSwish', [IMAGE]) },
  { mode: 'static', opType: 'Softmax', build: () => single('Softmax', [[1, 12, 128, 128]], { axis: -1 }) },
  { mode: 'static', opType: 'AveragePool', build: () => single('AveragePool', [IMAGE], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }) },
  { mode: 'static', opType: 'GlobalAveragePool', build: () => single('GlobalAveragePool', [[1, 256, 28, 28]]) },
  { mode: 'static', opType: 'MaxPool', build: () => single('MaxPool', [[1, 64, 112, 112]], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] }) },
  { mode: 'static', opType: 'Resize', build: () => single('Resize', [[1, 64, 28, 28]], { mode: attr.string('nearest') }, [{ name: 'roi', data: new Float32Array(0), dims: [0] }, { name: 'scales', data: Float32Array.of(1, 1, 2, 2), dims: [4] }]) },
  { mode: 'static', opType: 'Concat', build: () => single('Concat', [[1, 64, 28, 28], [1, 64, 28, 28]], { axis: 1 }) },
  { mode: 'static', opType: 'Transpose', build: () => single('Transpose', [[1, 128, 12, 64]], { perm: [0, 2, 1, 3] }) },
  { mode: 'static', opType: 'Reshape', build: () => single('Reshape', [[1, 128, 768]], {}, [{ name: 'shape', data: BigInt64Array.of(1n, 128n, 12n, 64n), dims: [4] }]) },
  { mode: 'static', opType: 'Flatten', build: () => single('Flatten', [[1, 512, 7, 7]], { axis: 1 }) },
  { mode: 'static', opType: 'Squeeze', build: () => single('Squeeze', [[1, 512, 1, 1]], {}, [{ name: 'axes', data: BigInt64Array.of(2n, 3n), dims: [2] }]) },
  { mode: 'static', opType: 'Unsqueeze', build: () => single('Unsqueeze', [[1, 512]], {}, [{ name: 'axes', data: BigInt64Array.of(2n, 3n), dims: [2] }]) },
  { mode: 'dynamic', opType: 'Conv', build: conv },
  { mode: 'dynamic', opType: 'MatMul', build: matmul },
  { mode: 'dynamic', opType: 'Gemm', build: gemm },
];

/** Static: the model's float boundary becomes int8 (the Q after each input and the DQ before each output go), as inside an int8 flow. */
function int8Boundary(model: Model): Model {
  const g = model.graph;
  for (const input of g.input) {
    const q = g.node.find((n) => n.opType === 'QuantizeLinear' && n.input[0] === input.name);
    if (!q) continue;
    input.name = q.output[0];
    const zeroPoint = g.initializer.find((t) => t.name === q.input[2]);
    if (input.type?.value.case === 'tensorType' && zeroPoint) input.type.value.value.elemType = zeroPoint.dataType;
    g.node.splice(g.node.indexOf(q), 1);
  }
  for (const output of g.output) {
    const dq = g.node.find((n) => n.opType === 'DequantizeLinear' && n.output[0] === output.name);
    if (!dq) continue;
    output.name = dq.input[0];
    const zeroPoint = g.initializer.find((t) => t.name === dq.input[2]);
    if (output.type?.value.case === 'tensorType' && zeroPoint) output.type.value.value.elemType = zeroPoint.dataType;
    g.node.splice(g.node.indexOf(dq), 1);
  }
  model.invalidate();
  return model;
}

function feedsFor(inputs: readonly { name: string; type: string; shape: readonly (number | string | null)[] | null }[], seed: number): Feeds {
  const feeds: Feeds = {};
  inputs.forEach((input, i) => {
    const dims = (input.shape ?? []).map((d) => (typeof d === 'number' ? d : 1));
    const next = createRandom(seed + i);
    const data = input.type === 'uint8' ? Uint8Array.from({ length: count(dims) }, () => Math.floor(next() * 256))
      : input.type === 'int8' ? Int8Array.from({ length: count(dims) }, () => Math.floor(next() * 256) - 128)
        : Float32Array.from({ length: count(dims) }, () => next() * 2 - 1);
    feeds[input.name] = { type: input.type, dims, data } as HostTensor;
  });
  return feeds;
}

/** Float against quantized for every case; `runs` timed runs each (interleaved, after warm-up). */
export async function measureKernelSpeeds(engine: EngineOptions, runs: number, log: (line: string) => void): Promise<KernelSpeedEntry[]> {
  const ort = new OrtEngine();
  const entries: KernelSpeedEntry[] = [];
  for (const c of CASES) {
    const float = c.build();
    const calibration = [feedsFor(float.inputs.map((i) => ({ name: i.name, type: 'float32', shape: i.dims ?? [] })), 1)];
    const { model } = await quantize(float, { mode: c.mode, opTypes: [c.opType], force: true, calibration, verify: false });
    const quantized = c.mode === 'static' ? int8Boundary(model) : model;
    const [a, b] = [await ort.load(serializeModel(float), engine), await ort.load(serializeModel(quantized), engine)];
    try {
      const [fa, fb] = [feedsFor(a.inputs, 7), feedsFor(b.inputs, 7)];
      const [tf, tq] = await timeInterleaved([() => a.run(fa), () => b.run(fb)], { budgetMs: 2000, maxRuns: runs, warmup: 2, pauseMs: 5 });
      const kernel = await fusedOps(quantized);
      entries.push({ mode: c.mode, opType: c.opType, kernel, floatMs: tf.minMs, quantizedMs: tq.minMs });
      log(`${c.mode} ${c.opType}: float ${tf.minMs.toFixed(3)} ms, quantized ${tq.minMs.toFixed(3)} ms (${(tq.minMs / tf.minMs).toFixed(2)}x), fastest of ${tf.runs} runs`);
    } finally {
      await a.dispose();
      await b.dispose();
    }
  }
  return entries;
}

/** The node types onnxruntime runs for `model` after its fusions (level 'extended', no layout changes). */
async function fusedOps(model: Model): Promise<string> {
  const file = path.join(os.tmpdir(), `onnxforge-kernels-${process.pid}-${Date.now()}.onnx`);
  const session = await ort.InferenceSession.create(serializeModel(model), { graphOptimizationLevel: 'extended', optimizedModelFilePath: file });
  await session.release();
  try {
    return [...new Set(loadModel(file).graph.node.map((n) => n.opType))].join(' + ');
  } finally {
    fs.rmSync(file, { force: true });
  }
}
