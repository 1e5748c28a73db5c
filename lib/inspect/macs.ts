// Multiply-accumulate estimates for MatMul, Gemm and Conv, where shapes are known, quantized forms
// included (MatMulInteger, QLinearMatMul, ConvInteger, QLinearConv, com.microsoft MatMulNBits; a QDQ
// model's MatMul and Conv are plain ones), so that a model keeps its MAC count through quantization.
import type { NodeProto } from '../onnx/gen/onnx_pb';
import { getAttribute } from '../onnx/attributes';
import type { ShapeTable } from './shapes';
import { floatView } from './quantized-ops';

const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

function matmulMacs(a: number[], b: number[]): number | undefined {
  if (a.length === 0 || b.length === 0) return undefined;
  const a2 = a.length === 1 ? [1, a[0]] : a;
  const b2 = b.length === 1 ? [b[0], 1] : b;
  const [m, k] = a2.slice(-2);
  const n = b2[b2.length - 1];
  const batchA = a2.slice(0, -2);
  const batchB = b2.slice(0, -2);
  const rank = Math.max(batchA.length, batchB.length);
  let batch = 1;
  for (let i = 0; i < rank; i++) {
    const da = batchA[batchA.length - rank + i] ?? 1;
    const db = batchB[batchB.length - rank + i] ?? 1;
    batch *= Math.max(da, db);
  }
  return batch * m * k * n;
}

function gemmMacs(node: NodeProto, a: number[], b: number[]): number | undefined {
  if (a.length !== 2 || b.length !== 2) return undefined;
  const transA = getAttribute(node, 'transA') === 1;
  const transB = getAttribute(node, 'transB') === 1;
  const [m, k] = transA ? [a[1], a[0]] : a;
  const n = transB ? b[0] : b[1];
  return m * k * n;
}

/** Conv output spatial size from the input, for explicit pads or VALID/SAME auto_pad. */
function convOutputSpatial(node: NodeProto, input: number[], weight: number[]): number[] | undefined {
  const spatial = input.slice(2);
  const kernel = weight.slice(2);
  const rank = spatial.length;
  const strides = (getAttribute(node, 'strides') as number[] | undefined) ?? Array(rank).fill(1);
  const dilations = (getAttribute(node, 'dilations') as number[] | undefined) ?? Array(rank).fill(1);
  const pads = (getAttribute(node, 'pads') as number[] | undefined) ?? Array(2 * rank).fill(0);
  const autoPad = (getAttribute(node, 'auto_pad') as string | undefined) ?? 'NOTSET';
  return spatial.map((size, i) => {
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return Math.ceil(size / strides[i]);
    const effective = (kernel[i] - 1) * dilations[i] + 1;
    const padded = autoPad === 'VALID' ? size : size + pads[i] + pads[i + rank];
    return Math.floor((padded - effective) / strides[i]) + 1;
  });
}

function convMacs(node: NodeProto, x: string, w: string, shapes: ShapeTable): number | undefined {
  const weight = shapes.get(w);
  if (!weight || weight.length < 3) return undefined;
  const output = shapes.get(node.output[0]);
  const input = shapes.get(x);
  let batch: number, spatial: number[] | undefined;
  if (output && output.length === weight.length) {
    batch = output[0];
    spatial = output.slice(2);
  } else if (input && input.length === weight.length) {
    batch = input[0];
    spatial = convOutputSpatial(node, input, weight);
  } else {
    return undefined;
  }
  if (!spatial) return undefined;
  // weight = [C_out, C_in / group, k...]: each output element takes C_in/group * prod(k) MACs.
  return batch * weight[0] * product(spatial) * product(weight.slice(1));
}

/** MACs of one node, or undefined when its op is not counted or shapes are unknown. */
export function nodeMacs(node: NodeProto, shapes: ShapeTable): number | undefined {
  const view = floatView(node);
  if (view?.op === 'Conv') return convMacs(node, view.x, view.w, shapes);
  const a = shapes.get(view?.x ?? node.input[0]);
  const b = shapes.get(view?.w ?? node.input[1]);
  if (view?.op === 'MatMul') return a && b ? matmulMacs(a, b) : undefined;
  if (node.opType === 'Gemm') return a && b ? gemmMacs(node, a, b) : undefined;
  if (node.opType === 'MatMulNBits' && node.domain === 'com.microsoft') {
    const [k, n] = [getAttribute(node, 'K'), getAttribute(node, 'N')] as (number | undefined)[];
    return a && a.length >= 1 && k !== undefined && n !== undefined ? product(a.slice(0, -1)) * k * n : undefined;
  }
  return undefined;
}

export const MAC_OPS = new Set(['MatMul', 'MatMulInteger', 'QLinearMatMul', 'MatMulNBits', 'Gemm', 'Conv', 'ConvInteger', 'QLinearConv']);
