// Single-op models (and short chains) on both engines: each op's lowering, attributes, opset
// differences, broadcasting and views against onnxruntime's results.
import { GraphBuilder } from '../../lib/onnx/builder';
import type { DTypeName } from '../../lib/onnx/dtype';
import { attr, type AttributeValue } from '../../lib/onnx/attributes';
import type { HostTensor } from '../../lib/engine/tensor';
import { randomNormal } from '../../lib/onnx/random';
import { agreement, loadBoth } from './native-helpers';

interface OpCase {
  name: string;
  op: string;
  inputs: { dtype: DTypeName; dims: number[]; data?: HostTensor['data']; constant?: boolean }[];
  attrs?: Record<string, AttributeValue>;
  opset?: number;
  outputs?: number;
}

function feedData(dtype: DTypeName, dims: number[], seed: number): HostTensor['data'] {
  const n = dims.reduce((p, d) => p * d, 1);
  const values = randomNormal(n, seed);
  switch (dtype) {
    case 'float32': return values;
    case 'int64': return BigInt64Array.from(values, (v) => BigInt(Math.round(v * 3)));
    case 'int32': return Int32Array.from(values, (v) => Math.round(v * 3));
    case 'bool': return Uint8Array.from(values, (v) => (v > 0 ? 1 : 0));
    default: throw new Error(dtype);
  }
}

const f = (dims: number[], constant = false) => ({ dtype: 'float32' as const, dims, constant });
const i64 = (values: number[], dims = [values.length]) => ({ dtype: 'int64' as const, dims, data: BigInt64Array.from(values.map(BigInt)), constant: true });

const cases: OpCase[] = [
  { name: 'Add, row broadcast', op: 'Add', inputs: [f([2, 3, 4]), f([4])] },
  { name: 'Sub, column broadcast', op: 'Sub', inputs: [f([2, 3, 1]), f([2, 1, 5])] },
  { name: 'Mul, scalar constant', op: 'Mul', inputs: [f([3, 5]), f([], true)] },
  { name: 'Div', op: 'Div', inputs: [f([4, 4]), f([4, 4])] },
  { name: 'Pow by 2', op: 'Pow', inputs: [f([6]), { dtype: 'float32', dims: [], data: Float32Array.of(2), constant: true }] },
  { name: 'Max of three', op: 'Max', inputs: [f([3, 4]), f([4]), f([3, 1])] },
  { name: 'Equal int64', op: 'Equal', inputs: [{ dtype: 'int64', dims: [5] }, { dtype: 'int64', dims: [5] }] },
  { name: 'Less', op: 'Less', inputs: [f([2, 3]), f([3])] },
  { name: 'Where', op: 'Where', inputs: [{ dtype: 'bool', dims: [2, 3] }, f([2, 3]), f([1])] },
  { name: 'Cast int64 to float', op: 'Cast', inputs: [{ dtype: 'int64', dims: [7] }], attrs: { to: 1 } },
  { name: 'Cast float to int64', op: 'Cast', inputs: [f([7])], attrs: { to: 7 } },
  ...['Relu', 'Sigmoid', 'Tanh', 'Erf', 'Exp', 'Neg', 'Abs', 'Floor', 'Ceil', 'Sin', 'Cos', 'Softplus', 'HardSwish']
    .map((op) => ({ name: op, op, inputs: [f([3, 33])] })),
  { name: 'Sqrt', op: 'Sqrt', inputs: [{ dtype: 'float32', dims: [8], data: Float32Array.from({ length: 8 }, (_, i) => i * 1.5), constant: false }] },
  { name: 'Clip (opset 13 inputs)', op: 'Clip', inputs: [f([10]), { dtype: 'float32', dims: [], data: Float32Array.of(-0.5), constant: true }, { dtype: 'float32', dims: [], data: Float32Array.of(0.7), constant: true }] },
  { name: 'Clip (opset 6 attrs)', op: 'Clip', inputs: [f([10])], attrs: { min: -0.2, max: 0.3 }, opset: 6 },
  { name: 'LeakyRelu', op: 'LeakyRelu', inputs: [f([10])], attrs: { alpha: 0.1 } },
  { name: 'HardSigmoid', op: 'HardSigmoid', inputs: [f([10])], attrs: { alpha: 0.3, beta: 0.4 } },
  { name: 'Transpose then Relu', op: 'Transpose', inputs: [f([2, 3, 4])], attrs: { perm: [2, 0, 1] } },
  { name: 'Reshape with 0 and -1', op: 'Reshape', inputs: [f([2, 3, 4]), i64([0, -1])] },
  { name: 'Flatten axis 2', op: 'Flatten', inputs: [f([2, 3, 4, 5])], attrs: { axis: 2 } },
  { name: 'Squeeze (opset 13 input)', op: 'Squeeze', inputs: [f([2, 1, 3, 1]), i64([1, -1])] },
  { name: 'Squeeze (opset 11 attribute)', op: 'Squeeze', inputs: [f([2, 1, 3, 1])], attrs: { axes: [1] }, opset: 11 },
  { name: 'Unsqueeze (opset 13 input)', op: 'Unsqueeze', inputs: [f([2, 3]), i64([0, 3])] },
  { name: 'Unsqueeze (opset 11 attribute)', op: 'Unsqueeze', inputs: [f([2, 3])], attrs: { axes: [1] }, opset: 11 },
  { name: 'Concat axis 1', op: 'Concat', inputs: [f([2, 3, 4]), f([2, 1, 4]), f([2, 5, 4])], attrs: { axis: 1 } },
  { name: 'Concat axis -1', op: 'Concat', inputs: [f([2, 3]), f([2, 2])], attrs: { axis: -1 } },
  { name: 'Slice with steps and negatives', op: 'Slice', inputs: [f([6, 8]), i64([1, -1]), i64([5, 0]), i64([0, 1]), i64([2, -3])] },
  { name: 'Slice past the end', op: 'Slice', inputs: [f([5, 4]), i64([2]), i64([100]), i64([0])] },
  { name: 'Split (opset 13 sizes)', op: 'Split', inputs: [f([2, 7]), i64([3, 4])], attrs: { axis: 1 }, outputs: 2 },
  { name: 'Split equal (opset 11)', op: 'Split', inputs: [f([6, 2])], attrs: { axis: 0 }, outputs: 3, opset: 11 },
  { name: 'Expand', op: 'Expand', inputs: [f([3, 1]), i64([2, 3, 4])] },
  { name: 'Gather axis 1, int64 indices', op: 'Gather', inputs: [f([3, 5, 2]), i64([4, 0, -1, 2], [2, 2])], attrs: { axis: 1 } },
  { name: 'Gather one constant index', op: 'Gather', inputs: [f([3, 5, 2]), i64([1], [])], attrs: { axis: 1 } },
  { name: 'MatMul batched with broadcast', op: 'MatMul', inputs: [f([2, 3, 4, 5]), f([3, 5, 6])] },
  { name: 'MatMul vector x matrix', op: 'MatMul', inputs: [f([5]), f([2, 5, 3])] },
  { name: 'MatMul activations 2-D', op: 'MatMul', inputs: [f([7, 9]), f([9, 4])] },
  { name: 'Gemm runtime weight, transposes, alpha, beta', op: 'Gemm', inputs: [f([4, 3]), f([5, 4]), f([5])], attrs: { transA: 1, transB: 1, alpha: 0.5, beta: attr.float(2) } },
  { name: 'Gemm constant weight and bias', op: 'Gemm', inputs: [f([4, 3]), f([5, 3], true), f([1, 5], true)], attrs: { transB: 1 } },
  { name: 'Softmax axis 1 (opset 13)', op: 'Softmax', inputs: [f([2, 5, 3])], attrs: { axis: 1 } },
  { name: 'Softmax axis 1 (opset 11, flattened)', op: 'Softmax', inputs: [f([2, 5, 3])], attrs: { axis: 1 }, opset: 11 },
  { name: 'LogSoftmax', op: 'LogSoftmax', inputs: [f([4, 6])] },
  { name: 'LayerNormalization over two axes', op: 'LayerNormalization', inputs: [f([2, 3, 4]), f([3, 4], true), f([3, 4], true)], attrs: { axis: 1, epsilon: 1e-3 }, opset: 17 },
  { name: 'ReduceMean last axis', op: 'ReduceMean', inputs: [f([3, 4, 5])], attrs: { axes: [-1] } },
  { name: 'ReduceMean outer axes, no keepdims', op: 'ReduceMean', inputs: [f([3, 4, 5])], attrs: { axes: [0, 2], keepdims: 0 } },
  { name: 'ReduceSum (opset 13 axes input)', op: 'ReduceSum', inputs: [f([3, 4, 5]), i64([1])] },
  { name: 'ReduceMax all', op: 'ReduceMax', inputs: [f([3, 4])] },
  { name: 'QuantizeLinear per axis', op: 'QuantizeLinear', inputs: [f([2, 3, 4]), { dtype: 'float32', dims: [3], data: Float32Array.of(0.01, 0.02, 0.05), constant: true }, { dtype: 'int8', dims: [3], data: Int8Array.of(0, 3, -2), constant: true } as never], attrs: { axis: 1 } },
  { name: 'DynamicQuantizeLinear', op: 'DynamicQuantizeLinear', inputs: [f([5, 7])], outputs: 3 },
];

function buildCase(c: OpCase): { bytes: Uint8Array; feeds: Record<string, HostTensor> } {
  const g = new GraphBuilder();
  const feeds: Record<string, HostTensor> = {};
  const names = c.inputs.map((input, i) => {
    const data = input.data ?? feedData(input.dtype, input.dims, i + 1);
    if (input.constant) return g.initializer(`c${i}`, data as never, input.dims, input.dtype);
    feeds[`x${i}`] = { type: input.dtype as HostTensor['type'], dims: input.dims, data };
    return g.input(`x${i}`, input.dtype, input.dims);
  });
  const count = c.outputs ?? 1;
  const outs = Array.from({ length: count }, (_, i) => `y${i}`);
  g.node(c.op, names, outs, c.attrs ?? {});
  for (const o of outs) g.output(o, 'float32');
  const model = g.build({ opset: c.opset ?? 17, validate: false });
  // Output types as the op makes them: set by onnxruntime's inference, read back from its session.
  model.graph.output.forEach((o) => { o.type = undefined; });
  return { bytes: (require('../../lib/onnx/save') as typeof import('../../lib/onnx/save')).serializeModel(model), feeds };
}

describe.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
  test('matches onnxruntime', async () => {
    const { bytes, feeds } = buildCase(c);
    const pair = await loadBoth(bytes);
    try {
      const [want, got] = await Promise.all([pair.ort.run(feeds), pair.native.run(feeds)]);
      for (const name of Object.keys(want)) {
        const a = agreement(want[name], got[name]);
        if (want[name].type === 'float32') expect(a.maxRelativeError).toBeLessThanOrEqual(2e-6);
        else expect(Array.from(got[name].data as ArrayLike<number | bigint>)).toEqual(Array.from(want[name].data as ArrayLike<number | bigint>));
      }
    } finally {
      await pair.dispose();
    }
  });
});
