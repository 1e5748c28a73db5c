// A static QDQ model quantizes and dequantizes between every pair of ops (QuantizeLinear ->
// DequantizeLinear), often followed by an elementwise op, itself often followed by another pair
// (DequantizeLinear -> HardSwish -> QuantizeLinear -> DequantizeLinear). Per tensor, each of these chains
// maps one of 256 quantized values to one float, so it becomes one QuantizeLookup: x quantized and looked up in a table computed
// here by the ops' own constant folding (the same arithmetic the unfused chain would do).
import { ENGINE_DOMAIN, type IrNode } from './ir';
import type { GraphEdit } from './graph-edit';
import { opDef } from './ops';
import type { Shaped } from './ops/types';
import { tensorFrom, valuesOf, type ConstTensor } from './tensor-data';

/** Ops that map each element on its own (the table may run them on the 256 values alone). */
const ELEMENTWISE = new Set([
  'Relu', 'LeakyRelu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Clip', 'Elu', 'Selu', 'Softplus',
  'Exp', 'Neg', 'Abs', 'Erf', 'Gelu', 'Identity',
]);

interface PerTensor { scale: number; zeroPoint: number; type: 'uint8' | 'int8' }

/** Scale and zero point of a per-tensor Quantize/DequantizeLinear with constant parameters. */
function perTensor(edit: GraphEdit, node: IrNode): PerTensor | undefined {
  const scale = edit.constant(node.inputs[1]);
  const zp = node.inputs[2] ? edit.constant(node.inputs[2]) : undefined;
  if (!scale || scale.dtype !== 'float32' || scale.data.length !== 1 || scale.dims.length > 1) return undefined;
  if (node.inputs[2] && (!zp || zp.data.length !== 1)) return undefined;
  const type = zp?.dtype ?? 'uint8';
  if (type !== 'uint8' && type !== 'int8') return undefined;
  const value = Number(scale.data[0]);
  if (!(value > 0) || !Number.isFinite(value)) return undefined;
  return { scale: value, zeroPoint: zp ? Number(zp.data[0]) : 0, type };
}

function same(a: PerTensor, b: PerTensor): boolean {
  return a.scale === b.scale && a.zeroPoint === b.zeroPoint && a.type === b.type;
}

/** `node` folded on `x` (its other inputs constant), or undefined when it cannot be. */
function foldOn(edit: GraphEdit, node: IrNode, x: ConstTensor, opset: number): ConstTensor | undefined {
  const def = opDef('', node.op);
  if (!def?.fold) return undefined;
  const inputs = node.inputs.map((name, i): Shaped | undefined => {
    if (i === 0) return { dtype: x.dtype, dims: x.dims, value: x, name };
    const c = edit.constant(name);
    return c ? { dtype: c.dtype, dims: c.dims, value: c, name } : undefined;
  });
  if (node.inputs.some((name, i) => i > 0 && name && !inputs[i])) return undefined;
  try {
    return def.fold(node, inputs, opset)[0];
  } catch {
    return undefined;
  }
}

/** The QuantizeLinear -> DequantizeLinear pair starting at q (same parameters), or undefined. */
function pairAt(edit: GraphEdit, q: IrNode): { dq: IrNode; params: PerTensor } | undefined {
  const params = perTensor(edit, q);
  const dq = edit.soleConsumer(q.outputs[0], 'DequantizeLinear');
  if (!params || !dq || dq.inputs[0] !== q.outputs[0]) return undefined;
  const back = perTensor(edit, dq);
  return back && same(params, back) ? { dq, params } : undefined;
}

function fuseFrom(edit: GraphEdit, q: IrNode, opset: number): void {
  const first = pairAt(edit, q);
  if (!first) return;
  const { params } = first;
  let table = foldOn(edit, first.dq, allCodes(params.type), opset);
  if (!table) return;
  const removed = [q, first.dq];
  let output = first.dq.outputs[0];
  // An elementwise op after the pair goes into the table; so does a second pair after that op.
  const op = edit.soleConsumer(output);
  const mapped = op && op.domain === '' && ELEMENTWISE.has(op.op) && op.inputs[0] === output ? foldOn(edit, op, table, opset) : undefined;
  if (op && mapped) {
    table = mapped;
    removed.push(op);
    output = op.outputs[0];
    const next = edit.soleConsumer(output, 'QuantizeLinear');
    const second = next ? pairAt(edit, next) : undefined;
    const requantized = next && second ? foldOn(edit, next, table, opset) : undefined;
    const chained = requantized && second ? foldOn(edit, second.dq, requantized, opset) : undefined;
    if (next && second && chained) {
      table = chained;
      removed.push(next, second.dq);
      output = second.dq.outputs[0];
    }
  }
  const values = Float32Array.from(valuesOf(table));
  if (values.length !== 256) return;
  const tableName = edit.addConstant(`${q.name}/lookup`, { dtype: 'float32', dims: [256], data: values });
  edit.replace(removed, [{
    op: 'QuantizeLookup', domain: ENGINE_DOMAIN, name: `${q.name}/lookup`, inputs: [q.inputs[0], tableName], outputs: [output],
    attrs: { scale: params.scale, zeroPoint: params.zeroPoint, signed: params.type === 'int8' ? 1 : 0 },
  }]);
}

/** The codes of a per-tensor quantization, as a 256-value tensor of its type. */
function allCodes(type: 'uint8' | 'int8'): ConstTensor {
  const lo = type === 'int8' ? -128 : 0;
  return tensorFrom(type, [256], Array.from({ length: 256 }, (_, i) => lo + i));
}

/**
 * QConv -> QuantizeLinear (-> DequantizeLinear -> elementwise op -> QuantizeLinear): the QConv writes the
 * codes itself. Its float result is quantized as the first QuantizeLinear does, then mapped through a
 * code table: the identity, or the rest of the chain folded over the 256 codes.
 */
function quantizeQConvOutput(edit: GraphEdit, conv: IrNode, opset: number): void {
  const q = edit.soleConsumer(conv.outputs[0], 'QuantizeLinear');
  const params = q && q.inputs[0] === conv.outputs[0] ? perTensor(edit, q) : undefined;
  if (!q || !params) return;
  let table = allCodes(params.type);
  const removed = [q];
  let output = q.outputs[0];
  const pair = pairAt(edit, q);
  const op = pair ? edit.soleConsumer(pair.dq.outputs[0]) : undefined;
  const next = op && op.domain === '' && ELEMENTWISE.has(op.op) && op.inputs[0] === pair!.dq.outputs[0]
    ? edit.soleConsumer(op.outputs[0], 'QuantizeLinear') : undefined;
  // An elementwise op not followed by a QuantizeLinear: one QuantizeLookup after a float QConv output
  // does the pair and the op in one pass, where codes would need a DequantizeLinear and the op.
  if (op && op.domain === '' && ELEMENTWISE.has(op.op) && !next) return;
  if (pair && op && next && perTensor(edit, next)) {
    const dequantized = foldOn(edit, pair.dq, table, opset);
    const mapped = dequantized && foldOn(edit, op, dequantized, opset);
    const codes = mapped && foldOn(edit, next, mapped, opset);
    if (codes) {
      table = codes;
      removed.push(pair.dq, op, next);
      output = next.outputs[0];
    }
  }
  const tableName = edit.addConstant(`${conv.name}/codes`, table);
  const inputs = [conv.inputs[0], conv.inputs[1] ?? '', tableName];
  edit.replace([conv, ...removed], [{
    ...conv, inputs, outputs: [output],
    attrs: { ...conv.attrs, outScale: params.scale, outZeroPoint: params.zeroPoint, outSigned: params.type === 'int8' ? 1 : 0, outType: table.dtype },
  }]);
}

/** Each QConv whose output is quantized again writes the quantized codes (see quantizeQConvOutput). */
export function fuseQConvOutputs(edit: GraphEdit, opset: number): void {
  for (const node of [...edit.graph.nodes]) {
    if (node.op === 'QConv' && node.domain === ENGINE_DOMAIN && edit.graph.nodes.includes(node)) quantizeQConvOutput(edit, node, opset);
  }
}

/** Every per-tensor QuantizeLinear -> DequantizeLinear pair (with what follows it, see above) as QuantizeLookup. */
export function fuseQuantizedLookups(edit: GraphEdit, opset: number): void {
  for (const node of [...edit.graph.nodes]) {
    if (node.op === 'QuantizeLinear' && node.domain === '' && edit.graph.nodes.includes(node)) fuseFrom(edit, node, opset);
  }
}
