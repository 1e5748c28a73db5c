// Static QDQ around the ops without weights: Add/Mul (QLinearAdd/QLinearMul), Sigmoid, Softmax and
// the pools (their QLinear kernels), pass-through ops that keep their input's scale (onnxruntime drops
// their Q/DQ so int8 flows through), and Concat with one scale for its inputs and output.
import type { NodeRef } from '../../onnx/model';
import { DataType } from '../../onnx/dtype';
import type { RewriteContext } from '../rewrite-context';
import type { NodeRewriter } from '../rewriter';
import { activationParams, hasRange, quantizedActivation, quantizedConstant, quantizeOutput } from './activations';
import { BINARY_OPS, CONCAT_OPS, PASS_THROUGH_OPS, UNARY_OPS } from './op-kinds';

/** Input indices that carry data (Resize's roi/scales/sizes, Reshape's shape... are not). */
export function dataInputs(ref: NodeRef): number[] {
  const op = ref.node.opType;
  if (BINARY_OPS.includes(op)) return [0, 1];
  if (CONCAT_OPS.includes(op)) return ref.node.input.map((_, i) => i);
  return [0];
}

function isConstant(ctx: RewriteContext, ref: NodeRef, name: string): boolean {
  return ctx.scope.findConstant(name, ref.graph) !== undefined;
}

/** The activation inputs (not constants) of a node without weights. */
export function activationInputsOf(ctx: RewriteContext, ref: NodeRef): number[] {
  return dataInputs(ref).filter((i) => ref.node.input[i] && !isConstant(ctx, ref, ref.node.input[i]));
}

function rangeProblem(ctx: RewriteContext, names: string[]): string | undefined {
  if (!ctx.calibrated) return undefined;
  for (const name of names) {
    if (!hasRange(ctx, name)) return `no calibration range for "${name}": ${ctx.missingRanges.get(name) ?? 'not measured'}`;
  }
  return undefined;
}

const check = (ctx: RewriteContext, ref: NodeRef): string | undefined => {
  const node = ref.node;
  const nonFloat = [...dataInputs(ref).map((i) => node.input[i]), node.output[0]].find((name) => name && ctx.elemTypes.has(name) && ctx.elemTypes.get(name) !== DataType.FLOAT);
  if (nonFloat) return `"${nonFloat}" is not float32 (shape arithmetic stays as it is)`;
  // In If/Loop bodies only the weighted ops are quantized: onnxruntime 1.30's QDQ handling there is
  // fragile (an abort on a folded Conv -> Conv), and silero VAD loses accuracy with its Adds quantized.
  if (ref.graphPath !== 'main') return 'kept in float: inside an If/Loop body only Conv/MatMul/Gemm are quantized';
  const inputs = dataInputs(ref);
  const activations = activationInputsOf(ctx, ref);
  if (activations.length === 0) return 'every input is a constant (constant folding, not quantization, applies)';
  if (BINARY_OPS.includes(node.opType)) {
    const constant = inputs.find((i) => !activations.includes(i));
    if (constant !== undefined && !ctx.scope.floatConstant(node.input[constant], ref.graph)) return 'its constant operand is not float32';
  } else if (activations.length !== inputs.length) {
    return 'a data input is a constant';
  }
  if (ctx.calibrated && (PASS_THROUGH_OPS.includes(node.opType) || CONCAT_OPS.includes(node.opType))
    && activations.some((i) => !ctx.quantizedValues.has(node.input[i]))) {
    // As onnxruntime's quantizer does: moving values starts no int8 island, it only carries one on.
    return 'kept in float: its input is not quantized (an op that only moves values carries int8 on, never starts it)';
  }
  if (ctx.model.graph.output.some((o) => o.name === node.output[0])) {
    return 'kept in float: its output is a model output (quantizing it would only add error there)';
  }
  return rangeProblem(ctx, [...activations.map((i) => node.input[i]), node.output[0]]);
};

const rewrite = (ctx: RewriteContext, ref: NodeRef): string => {
  const node = ref.node;
  const op = node.opType;
  const activations = activationInputsOf(ctx, ref);
  const inputParams = activationParams(ctx, node.input[activations[0]]);
  for (const i of dataInputs(ref)) {
    node.input[i] = activations.includes(i)
      ? quantizedActivation(ctx, ref.graph, node.input[i])
      : quantizedConstant(ctx, ref.graph, node.input[i]) ?? node.input[i];
  }
  const type = ctx.options.activationType;
  if (PASS_THROUGH_OPS.includes(op)) {
    quantizeOutput(ctx, ref, inputParams);
    return `QDQ ${type}, output at its input's scale (int8 passes through)`;
  }
  const folded = quantizeOutput(ctx, ref);
  if (CONCAT_OPS.includes(op)) return `QDQ ${type}, one scale for every input and the output${folded}`;
  const constants = dataInputs(ref).length - activations.length;
  return `QDQ ${type}${constants ? `, constant operand as ${type}` : ''}${folded}`;
};

const activationOpRewriter: NodeRewriter = { check, rewrite };

export const activationOpRewriters: Record<string, NodeRewriter> = Object.fromEntries(
  [...BINARY_OPS, ...UNARY_OPS, ...PASS_THROUGH_OPS, ...CONCAT_OPS].map((op) => [op, activationOpRewriter]),
);
