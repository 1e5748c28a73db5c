// The pieces under convertFloat: element type inference, Cast clean-up, float32 edges, output names.
import * as ort from 'onnxruntime-node';
import { convertFloat, inferElemTypes, withFloat32Io } from '../../lib/convert';
import { removeRedundantCasts } from '../../lib/convert/cast-cleanup';
import { attr, DataType, float16ToFloat32, GraphBuilder, makeTensor } from '../../lib/onnx';
import { runOrt as run } from '../onnx/helpers';
import { castNodes, redundantCasts } from './helpers';

test('element types follow each operator\'s rule where value infos are silent', () => {
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', [2, 3]);
  const shape = g.node('Shape', [x], ['shape']);
  const filled = g.node('ConstantOfShape', [shape], ['filled']);
  const ints = g.node('ConstantOfShape', [shape], ['ints'], { value: attr.tensor(makeTensor('', BigInt64Array.of(1n), [1])) });
  const halfX = g.node('Cast', [x], ['half'], { to: attr.int(DataType.FLOAT16) });
  g.node('TopK', [x, g.initializer('k', BigInt64Array.of(1n), [1])], ['top', 'top_idx']);
  g.node('Where', [g.node('Greater', [x, filled], ['mask']), ints, ints], ['chosen']);
  g.node('LayerNormalization', [halfX, g.initializer('scale', new Uint16Array(3), [3], 'float16')], ['ln', 'ln_mean', 'ln_inv_std']);
  const types = inferElemTypes(g.build({ validate: false }));
  expect(Object.fromEntries(['shape', 'filled', 'ints', 'half', 'top', 'top_idx', 'mask', 'chosen', 'ln', 'ln_mean', 'ln_inv_std'].map((n) => [n, types.get(n)]))).toEqual({
    shape: DataType.INT64, filled: DataType.FLOAT, ints: DataType.INT64, half: DataType.FLOAT16, top: DataType.FLOAT,
    top_idx: DataType.INT64, mask: DataType.BOOL, chosen: DataType.INT64, ln: DataType.FLOAT16, ln_mean: DataType.FLOAT, ln_inv_std: DataType.FLOAT,
  });
});

test('Cast clean-up: identity Casts, lossless round trips and twins go; lossy round trips and graph outputs stay', () => {
  const g = new GraphBuilder();
  const x = g.input('x', 'float16', [4]);
  const wide = g.node('Cast', [x], ['wide'], { to: attr.int(DataType.FLOAT) });
  const narrowAgain = g.node('Cast', [wide], ['narrow_again'], { to: attr.int(DataType.FLOAT16) });
  const same = g.node('Cast', [x], ['same'], { to: attr.int(DataType.FLOAT16) });
  const twin = g.node('Cast', [x], ['twin'], { to: attr.int(DataType.FLOAT) });
  g.node('Add', [narrowAgain, same], ['sum']);
  g.node('Add', [wide, twin], ['wide_sum']);
  const f = g.input('f', 'float32', [4]);
  const lossy = g.node('Cast', [g.node('Cast', [f], ['f16'], { to: attr.int(DataType.FLOAT16) })], ['f32'], { to: attr.int(DataType.FLOAT) });
  g.output('sum', 'float16', [4]);
  g.output('wide_sum', 'float32', [4]);
  g.output(lossy, 'float32', [4]);
  g.output(g.node('Cast', [x], ['out_cast'], { to: attr.int(DataType.FLOAT16) }), 'float16', [4]);
  const model = g.build();
  const removed = removeRedundantCasts(model);
  expect(removed.map((n) => n.output[0]).sort()).toEqual(['narrow_again', 'same', 'twin']);
  expect(castNodes(model).map((r) => r.node.output[0]).sort()).toEqual(['f16', 'f32', 'out_cast', 'wide']);
  expect(model.graph.node.find((n) => n.output[0] === 'sum')!.input).toEqual(['x', 'x']);
  expect(model.graph.node.find((n) => n.output[0] === 'wide_sum')!.input).toEqual(['wide', 'wide']);
});

test('a kept-io output that other nodes also read keeps its name; readers take the 16-bit value', async () => {
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', [3]);
  g.output(g.node('Relu', [x], ['y']), 'float32', [3]);
  g.output(g.node('Neg', ['y'], ['z']), 'float32', [3]);
  const source = g.build();
  const { model } = convertFloat(source, { keepIoTypes: true });
  expect(model.outputs.map((o) => [o.name, o.dtype])).toEqual([['y', 'float32'], ['z', 'float32']]);
  const types = inferElemTypes(model);
  const neg = model.graph.node.find((n) => n.opType === 'Neg')!;
  expect(types.get(neg.input[0])).toBe(DataType.FLOAT16);
  expect(castNodes(model)).toHaveLength(3);
  expect(redundantCasts(model)).toEqual([]);
  const feeds = { x: new ort.Tensor('float32', Float32Array.of(-1, 0.5, 2), [3]) };
  const out = await run(model, feeds);
  expect(Array.from(out.y.data as Float32Array)).toEqual([0, 0.5, 2]);
  expect(Array.from(out.z.data as Float32Array)).toEqual([-0, -0.5, -2]);
});

test('withFloat32Io puts float32 edges on a float16 model; results agree to float16 precision', async () => {
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', [3]);
  g.output(g.node('Mul', [x, g.initializer('w', Float32Array.of(0.1, 0.2, 0.3), [3])], ['y']), 'float32', [3]);
  const { model: half } = convertFloat(g.build());
  const twin = withFloat32Io(half);
  expect(twin.inputs.map((i) => i.dtype)).toEqual(['float32']);
  expect(twin.outputs.map((o) => o.dtype)).toEqual(['float32']);
  const values = Float32Array.of(1.5, -2, 3.25);
  const direct = await run(half, { x: new ort.Tensor('float16', new Uint16Array([0x3e00, 0xc000, 0x4280]), [3]) });
  const viaTwin = await run(twin, { x: new ort.Tensor('float32', values, [3]) });
  // onnxruntime computes float16 Mul in float32 on the CPU and may drop the rounding between the Casts.
  const half16 = float16ToFloat32(direct.y.data as Uint16Array);
  (viaTwin.y.data as Float32Array).forEach((v, i) => expect(Math.abs(v - half16[i])).toBeLessThanOrEqual(Math.abs(half16[i]) * 2 ** -10));
});
