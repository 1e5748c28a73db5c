// Static quantization in the QDQ format: every activation a selected node reads or writes passes
// through QuantizeLinear -> DequantizeLinear with a scale fixed by calibration; weights are stored
// as integers behind DequantizeLinear, Conv/Gemm biases as int32 at scale x_scale * w_scale. This is
// the layout onnxruntime turns into QLinearConv / QLinearMatMul / QGemm, and (static/activation-ops.ts)
// QLinearAdd / QLinearMul / QLinearSigmoid / QLinearConcat / QLinearGlobalAveragePool, with int8
// passing through Reshape/Transpose/MaxPool...: between two quantized ops there is one Q -> DQ pair.
import { getAttribute } from '../onnx/attributes';
import { DataType } from '../onnx/dtype';
import type { NodeRef } from '../onnx/model';
import type { CalibrationTarget } from './calibrate';
import { dequantizedWeight } from './qdq-weights';
import { roundHalfEven } from './quant-math';
import type { RewriteContext } from './rewrite-context';
import type { NodeRewriter } from './rewriter';
import { activationParams, hasRange, quantizedActivation, quantizeOutput, soleClampingReader } from './static/activations';
import { activationInputsOf, activationOpRewriters } from './static/activation-ops';
import { CONCAT_OPS, PASS_THROUGH_OPS, WEIGHTED_OPS } from './static/op-kinds';
import { convWeight, gemmParts, matmulWeight } from './weights';

/** Inputs of a weighted node that are activations to quantize with calibrated ranges. */
function weightedActivationInputs(ctx: RewriteContext, ref: NodeRef): number[] {
  if (ref.node.opType !== 'MatMul') return [0];
  return [0, 1].filter((i) => !ctx.scope.findConstant(ref.node.input[i], ref.graph));
}

function activationInputs(ctx: RewriteContext, ref: NodeRef): number[] {
  return WEIGHTED_OPS.includes(ref.node.opType) ? weightedActivationInputs(ctx, ref) : activationInputsOf(ctx, ref);
}

function weightProblem(ctx: RewriteContext, ref: NodeRef): string | undefined {
  const op = ref.node.opType;
  if (op === 'Conv') {
    const w = convWeight(ctx.scope, ref);
    return typeof w === 'string' ? w : undefined;
  }
  if (op === 'Gemm') {
    const parts = gemmParts(ctx.scope, ref);
    return typeof parts === 'string' ? parts : undefined;
  }
  if (!ctx.scope.findConstant(ref.node.input[1], ref.graph)) return undefined;
  const w = matmulWeight(ctx.scope, ref);
  return typeof w === 'string' ? w : undefined;
}

/**
 * Plans a static run over `candidates`: joins the values that share parameters (pass-through ops,
 * Concat) and lists the values calibration must measure, the output of a Relu/Clip that may be
 * folded into its producer's output range included.
 */
export function staticTensorsToCalibrate(ctx: RewriteContext, candidates: NodeRef[]): CalibrationTarget[] {
  const targets = new Map<string, CalibrationTarget>();
  const add = (name: string, graphPath: string) => targets.set(`${graphPath}\n${name}`, { name, graphPath });
  for (const ref of candidates) {
    const { node } = ref;
    const inputs = activationInputs(ctx, ref).map((i) => node.input[i]);
    for (const name of inputs) add(name, ref.graphPath);
    add(node.output[0], ref.graphPath);
    const clamp = soleClampingReader(ctx, ref.graph, node.output[0]);
    if (clamp) add(clamp.node.output[0], ref.graphPath);
    if (PASS_THROUGH_OPS.includes(node.opType) && inputs.length === 1) ctx.groups.union(inputs[0], node.output[0]);
    if (CONCAT_OPS.includes(node.opType)) for (const name of inputs) ctx.groups.union(node.output[0], name);
  }
  // Exposed for calibration as float32 outputs: a value known to be another type must not be.
  return [...targets.values()].filter((t) => (ctx.elemTypes.get(t.name) ?? DataType.FLOAT) === DataType.FLOAT);
}

/** After calibration: Softmax outputs span [0, 1] whatever the samples showed (onnxruntime's QLinearSoftmax expects it). */
export function settleStaticRanges(ctx: RewriteContext, candidates: NodeRef[]): void {
  for (const ref of candidates) if (ref.node.opType === 'Softmax' && ctx.ranges.has(ref.node.output[0])) ctx.ranges.set(ref.node.output[0], [0, 1]);
}

/** Bias as int32 at scale x_scale * w_scale (zero point 0): what QLinearConv/QGemm add in integers. */
function quantizedBias(ctx: RewriteContext, ref: NodeRef, biasName: string, inputScale: number, weightScales: Float32Array): string | undefined {
  const bias = ctx.scope.floatConstant(biasName, ref.graph);
  if (!bias || bias.dims.length !== 1) return undefined;
  const perChannel = weightScales.length > 1;
  const scales = Float32Array.from(bias.values, (_, c) => Math.fround(inputScale * weightScales[perChannel ? c : 0]));
  if (scales.some((s) => !(s > 0))) return undefined;
  const q = Int32Array.from(bias.values, (v, c) => Math.max(-2147483648, Math.min(2147483647, roundHalfEven(Math.fround(v / scales[c])))));
  const graph = bias.ref.graph;
  const qName = ctx.scope.addInitializer(graph, `${biasName}_quantized`, q, bias.dims, 'int32');
  const scaleName = ctx.scope.addInitializer(graph, `${biasName}_scale`, perChannel ? scales : scales.slice(0, 1), perChannel ? [scales.length] : []);
  ctx.scope.markReplaced(bias.ref);
  const out = ctx.scope.fresh(`${biasName}_dequantized`);
  ref.graph.node.push(ctx.node('DequantizeLinear', [qName, scaleName], [out], biasName, perChannel ? { axis: 0 } : {}));
  return out;
}

const weightedRewriter: NodeRewriter = {
  check: (ctx, ref) => {
    const problem = weightProblem(ctx, ref);
    if (problem) return problem;
    if (!ctx.calibrated) return undefined;
    for (const name of [...weightedActivationInputs(ctx, ref).map((i) => ref.node.input[i]), ref.node.output[0]]) {
      if (!hasRange(ctx, name)) {
        return `no calibration range for "${name}": ${ctx.missingRanges.get(name) ?? 'not measured'}`;
      }
    }
    return undefined;
  },
  rewrite: (ctx, ref) => {
    const node = ref.node;
    const op = node.opType;
    const o = ctx.options;
    const inputScale = activationParams(ctx, node.input[0]).scale;
    for (const i of weightedActivationInputs(ctx, ref)) node.input[i] = quantizedActivation(ctx, ref.graph, node.input[i]);
    let weightNote = 'activations only';
    const stored = ctx.scope.floatConstant(node.input[1], ref.graph);
    if (stored) {
      const transB = op === 'Gemm' && (getAttribute(node, 'transB') ?? 0) !== 0;
      const axis = o.perChannel ? (op === 'Conv' || transB ? 0 : 1) : null;
      const dq = dequantizedWeight(ctx, ref.graph, stored.ref, stored.values, stored.dims, axis);
      node.input[1] = dq.output;
      weightNote = `${axis === null ? 'per-tensor' : 'per-channel'} ${o.weightType} weight [${stored.dims.join(', ')}]`;
      const plainGemm = op === 'Gemm' && (getAttribute(node, 'alpha') ?? 1) === 1 && (getAttribute(node, 'beta') ?? 1) === 1;
      if (node.input[2] && (op === 'Conv' || plainGemm)) {
        const bias = quantizedBias(ctx, ref, node.input[2], inputScale, dq.weight.tensor.scales);
        if (bias) node.input[2] = bias;
      }
    }
    const folded = quantizeOutput(ctx, ref);
    return `QDQ ${o.activationType} activations, ${weightNote}${folded}`;
  },
};

export const staticRewriters: Record<string, NodeRewriter> = {
  ...activationOpRewriters,
  MatMul: weightedRewriter,
  Gemm: weightedRewriter,
  Conv: weightedRewriter,
};
