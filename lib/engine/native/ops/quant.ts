// QuantizeLinear, DequantizeLinear and DynamicQuantizeLinear, per tensor or per axis.
import { elementCount } from '../../../onnx/tensor';
import { LoweringError } from '../errors';
import { floatAttr, intAttr, type IrNode } from '../ir';
import { emptyTensor, setValues, valuesOf, type ConstTensor } from '../tensor-data';
import { packedOrder } from '../lower-context';
import type { LowerArgs, OpDef, Shaped } from './types';

function fail(node: IrNode, reason: string): never {
  throw new LoweringError(node.name, node.op, reason);
}

/** [outer, channels, inner] of a per-tensor (scalar or 1-element scale) or per-axis quantization. */
function axisLayout(node: IrNode, x: Shaped, scale: Shaped): [number, number, number] {
  const count = elementCount(x.dims);
  if (elementCount(scale.dims) === 1 && scale.dims.length <= 1) return [1, 1, count];
  if (scale.dims.length !== 1) fail(node, 'blocked quantization (a scale of rank > 1) is not supported');
  let axis = intAttr(node, 'axis', 1);
  if (axis < 0) axis += x.dims.length;
  if (axis < 0 || axis >= x.dims.length || x.dims[axis] !== scale.dims[0]) fail(node, 'the scale does not match the axis');
  return [elementCount(x.dims.slice(0, axis)), x.dims[axis], elementCount(x.dims.slice(axis + 1))];
}

function refOf(args: LowerArgs, i: number) {
  return args.inputs[i] ?? args.ctx.constant(args.shaped[i]!.name, args.shaped[i]!.value!);
}

/** Round half to even, as ONNX quantization rounds. */
function roundEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function foldQuantize(node: IrNode, x: ConstTensor, scale: Shaped, zp: Shaped | undefined, dequantize: boolean): ConstTensor {
  const [outer, channels, inner] = axisLayout(node, { dtype: x.dtype, dims: x.dims }, scale);
  const s = valuesOf(scale.value!), z = zp ? valuesOf(zp.value!) : new Array<number>(channels).fill(0);
  const type = dequantize ? 'float32' : zp?.dtype ?? 'uint8';
  const [lo, hi] = type === 'int8' ? [-128, 127] : [0, 255];
  const xv = valuesOf(x);
  const out = emptyTensor(type, x.dims);
  const values = new Array<number>(xv.length);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      for (let i = 0; i < inner; i++) {
        const at = (o * channels + c) * inner + i;
        values[at] = dequantize
          ? Math.fround((xv[at] - z[c]) * s[c])
          : Number.isNaN(xv[at] / s[c]) ? z[c] : Math.min(hi, Math.max(lo, roundEven(Math.fround(xv[at] / s[c])) + z[c]));
      }
    }
  }
  setValues(out, values);
  return out;
}

function quantizeOp(dequantize: boolean): OpDef {
  return {
    infer(node, inputs) {
      const [x, scale, zp] = inputs;
      if (scale!.dtype !== 'float32') fail(node, 'only float32 scales are supported');
      axisLayout(node, x!, scale!);
      if (dequantize) {
        if (!['uint8', 'int8', 'int32'].includes(x!.dtype)) fail(node, `${x!.dtype} input is not supported`);
        return [{ dtype: 'float32', dims: x!.dims }];
      }
      const type = zp?.dtype ?? 'uint8';
      if (type !== 'uint8' && type !== 'int8') fail(node, `${type} output is not supported`);
      return [{ dtype: type, dims: x!.dims }];
    },
    fold(node, inputs) {
      return [foldQuantize(node, inputs[0]!.value!, inputs[1]!, inputs[2], dequantize)];
    },
    lower(args) {
      const { ctx, node, shaped, outputs } = args;
      const [outer, channels, inner] = axisLayout(node, shaped[0]!, shaped[1]!);
      const x = refOf(args, 0);
      // Per tensor, any packed layout (NHWC between convolutions) is quantized as it lies.
      const order = channels === 1 ? packedOrder(x) : undefined;
      const out = ctx.arenaInOrder(outputs[0].dtype, outputs[0].dims, order ?? outputs[0].dims.map((_, i) => i));
      const inputs = [order ? ctx.flat(x) : ctx.dense(x), ctx.dense(refOf(args, 1))];
      if (shaped[2]) inputs.push(ctx.dense(refOf(args, 2)));
      if (outer * channels * inner > 0) {
        ctx.step(dequantize ? 'DequantizeLinear' : 'QuantizeLinear', inputs, [ctx.flat(out)], [outer, channels, inner]);
      }
      return [out];
    },
  };
}

const dynamicQuantize: OpDef = {
  infer(node, inputs) {
    if (inputs[0]!.dtype !== 'float32') fail(node, 'the input must be float32');
    return [{ dtype: 'uint8', dims: inputs[0]!.dims }, { dtype: 'float32', dims: [] }, { dtype: 'uint8', dims: [] }];
  },
  lower(args) {
    const { ctx, shaped } = args;
    const x = refOf(args, 0);
    const y = ctx.arena('uint8', shaped[0]!.dims), scale = ctx.arena('float32', []), zp = ctx.arena('uint8', []);
    ctx.step('DynamicQuantizeLinear', [ctx.dense(x)], [ctx.dense(y), ctx.dense(scale), ctx.dense(zp)]);
    return [y, scale, zp];
  },
};

/**
 * Engine QuantizeLookup (lookup-fusion.ts): y = table[q(x)] over float32 x, q being QuantizeLinear's value
 * for attrs scale, zeroPoint and signed; input 1 is the 256-entry float32 table. Runs on any packed layout.
 */
const quantizeLookup: OpDef = {
  infer(node, inputs) {
    if (inputs[0]!.dtype !== 'float32') fail(node, 'x must be float32');
    return [{ dtype: 'float32', dims: inputs[0]!.dims }];
  },
  lower(args) {
    const { ctx, node, outputs } = args;
    const x = refOf(args, 0);
    const order = packedOrder(x);
    const out = ctx.arenaInOrder('float32', outputs[0].dims, order ?? outputs[0].dims.map((_, i) => i));
    if (elementCount(outputs[0].dims) > 0) {
      ctx.step('QuantizeLookup', [order ? ctx.flat(x) : ctx.dense(x), ctx.dense(refOf(args, 1))], [ctx.flat(out)],
        [intAttr(node, 'signed', 0), intAttr(node, 'zeroPoint', 0)], [floatAttr(node, 'scale', 1)]);
    }
    return [out];
  },
};

export const ENGINE_QUANT_OPS: Record<string, OpDef> = { QuantizeLookup: quantizeLookup };

export const QUANT_OPS: Record<string, OpDef> = {
  QuantizeLinear: quantizeOp(false),
  DequantizeLinear: quantizeOp(true),
  DynamicQuantizeLinear: dynamicQuantize,
};
