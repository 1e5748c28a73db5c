// A small static shape propagation over the main graph for the ops that make up
// common MLP, transformer and conv models, so MAC estimates work on models
// whose files state no intermediate shapes. Unknown ops simply stop propagation.
import type { NodeProto, TensorProto } from '../onnx/gen/onnx_pb';
import { getAttribute } from '../onnx/attributes';
import type { Model } from '../onnx/model';
import { tensorValues } from '../onnx/tensor';
import { floatView } from './quantized-ops';

/** Known static shapes by value name. */
export type ShapeTable = Map<string, number[]>;

const SAME_SHAPE_OPS = new Set([
  'Relu', 'Gelu', 'Erf', 'Sigmoid', 'Tanh', 'Softmax', 'LogSoftmax', 'LayerNormalization', 'BatchNormalization',
  'Identity', 'Cast', 'Dropout', 'Neg', 'Sqrt', 'Exp', 'Log', 'Abs', 'Clip', 'LeakyRelu', 'HardSigmoid',
  'HardSwish', 'Softplus', 'InstanceNormalization', 'QuantizeLinear', 'DequantizeLinear', 'Reciprocal', 'SimplifiedLayerNormalization',
]);
const BROADCAST_OPS = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Where', 'Equal', 'Less', 'Greater', 'And', 'Or', 'PRelu']);

function broadcast(shapes: number[][]): number[] | undefined {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let dim = 1;
    for (const s of shapes) {
      const d = s[s.length - rank + i] ?? 1;
      if (d !== 1) {
        if (dim !== 1 && dim !== d) return undefined;
        dim = d;
      }
    }
    out.push(dim);
  }
  return out;
}

function constantInts(model: Model, name: string, constants: Map<string, TensorProto>): number[] | undefined {
  const t = model.initializerProto(name) ?? constants.get(name);
  if (!t) return undefined;
  const values = tensorValues(t);
  if (values instanceof BigInt64Array) return Array.from(values, Number);
  if (values instanceof Int32Array) return Array.from(values);
  return undefined;
}

function normalizeAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

function reshape(input: number[], target: number[]): number[] | undefined {
  const out = target.map((d, i) => (d === 0 ? input[i] : d));
  const total = input.reduce((a, b) => a * b, 1);
  const minus = out.indexOf(-1);
  if (minus >= 0) {
    const known = out.reduce((a, d, i) => (i === minus ? a : a * d), 1);
    if (known === 0) return undefined;
    out[minus] = total / known;
  }
  return out.every((d) => Number.isInteger(d) && d >= 0) ? out : undefined;
}

function pool(node: NodeProto, input: number[]): number[] | undefined {
  const kernel = getAttribute(node, 'kernel_shape') as number[] | undefined;
  if (!kernel) return undefined;
  const rank = kernel.length;
  const strides = (getAttribute(node, 'strides') as number[] | undefined) ?? Array(rank).fill(1);
  const pads = (getAttribute(node, 'pads') as number[] | undefined) ?? Array(2 * rank).fill(0);
  const ceil = getAttribute(node, 'ceil_mode') === 1;
  const round = ceil ? Math.ceil : Math.floor;
  return [input[0], input[1], ...input.slice(2).map((s, i) => round((s + pads[i] + pads[i + rank] - kernel[i]) / strides[i]) + 1)];
}

function inferNode(model: Model, node: NodeProto, shapes: ShapeTable, constants: Map<string, TensorProto>): (number[] | undefined)[] {
  const view = floatView(node);
  // Quantized MatMul/Conv: the float op's rule, over the inputs at their positions.
  const inputs = view ? [view.x, view.w] : node.input;
  const input = (i: number) => (inputs[i] ? shapes.get(inputs[i]) : undefined);
  const x = input(0);
  const op = view?.op ?? node.opType;
  if (SAME_SHAPE_OPS.has(op)) return [x];
  if (BROADCAST_OPS.has(op)) {
    const all = node.input.map((n) => shapes.get(n));
    return [all.every((s) => s) ? broadcast(all as number[][]) : undefined];
  }
  if (!x) return [];
  switch (op) {
    case 'MatMul': {
      const w = input(1);
      if (!w || x.length < 1 || w.length < 2) return [];
      const batch = broadcast([x.slice(0, -2), w.slice(0, -2)]);
      return batch ? [[...batch, ...(x.length >= 2 ? [x[x.length - 2]] : []), w[w.length - 1]]] : [];
    }
    case 'Gemm': {
      const w = input(1);
      if (!w || x.length !== 2 || w.length !== 2) return [];
      const m = getAttribute(node, 'transA') === 1 ? x[1] : x[0];
      const n = getAttribute(node, 'transB') === 1 ? w[0] : w[1];
      return [[m, n]];
    }
    case 'Transpose': {
      const perm = (getAttribute(node, 'perm') as number[] | undefined) ?? x.map((_, i) => x.length - 1 - i);
      return [perm.map((p) => x[p])];
    }
    case 'Reshape': {
      const target = constantInts(model, node.input[1], constants);
      return [target ? reshape(x, target) : undefined];
    }
    case 'Flatten': {
      const axis = normalizeAxis((getAttribute(node, 'axis') as number | undefined) ?? 1, x.length);
      const prod = (d: number[]) => d.reduce((a, b) => a * b, 1);
      return [[prod(x.slice(0, axis)), prod(x.slice(axis))]];
    }
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
      return [[x[0], x[1], ...x.slice(2).map(() => 1)]];
    case 'MaxPool':
    case 'AveragePool':
      return [pool(node, x)];
    case 'Conv': {
      const w = input(1);
      if (!w) return [];
      const rank = w.length - 2;
      const strides = (getAttribute(node, 'strides') as number[] | undefined) ?? Array(rank).fill(1);
      const dilations = (getAttribute(node, 'dilations') as number[] | undefined) ?? Array(rank).fill(1);
      const pads = (getAttribute(node, 'pads') as number[] | undefined) ?? Array(2 * rank).fill(0);
      const autoPad = (getAttribute(node, 'auto_pad') as string | undefined) ?? 'NOTSET';
      const spatial = x.slice(2).map((s, i) => {
        if (autoPad.startsWith('SAME')) return Math.ceil(s / strides[i]);
        const padded = autoPad === 'VALID' ? s : s + pads[i] + pads[i + rank];
        return Math.floor((padded - ((w[i + 2] - 1) * dilations[i] + 1)) / strides[i]) + 1;
      });
      return [[x[0], w[0], ...spatial]];
    }
    case 'DynamicQuantizeLinear':
      return [x, [], []];
    case 'MatMulNBits': {
      // com.microsoft: A [..., K] times the packed [K, N] weight.
      const n = getAttribute(node, 'N') as number | undefined;
      return n === undefined || node.domain !== 'com.microsoft' ? [] : [[...x.slice(0, -1), n]];
    }
    case 'ReduceMean':
    case 'ReduceSum':
    case 'ReduceMax': {
      const axes = (getAttribute(node, 'axes') as number[] | undefined) ?? (node.input[1] ? constantInts(model, node.input[1], constants) : undefined);
      if (!axes) return [];
      const keep = getAttribute(node, 'keepdims') !== 0;
      const set = new Set(axes.map((a) => normalizeAxis(a, x.length)));
      return [keep ? x.map((d, i) => (set.has(i) ? 1 : d)) : x.filter((_, i) => !set.has(i))];
    }
    default:
      return [];
  }
}

/** Adds to `shapes` what propagation through the main graph's nodes can tell. */
export function propagateShapes(model: Model, shapes: ShapeTable): void {
  const constants = new Map<string, TensorProto>();
  for (const { node, graph } of model.nodes()) {
    if (graph !== model.graph) continue;
    if (node.opType === 'Constant') {
      const t = node.attribute.find((a) => a.name === 'value')?.t;
      if (t) {
        constants.set(node.output[0], t);
        shapes.set(node.output[0], t.dims.map(Number));
      }
      continue;
    }
    let inferred: (number[] | undefined)[];
    try {
      inferred = inferNode(model, node, shapes, constants);
    } catch {
      inferred = [];
    }
    inferred.forEach((dims, i) => {
      const name = node.output[i];
      if (dims && name && !shapes.has(name)) shapes.set(name, dims);
    });
  }
}
