// Static quantization in the QDQ format: every activation a selected node reads or writes passes
// through QuantizeLinear -> DequantizeLinear with a scale fixed by calibration; weights are stored
// as integers behind DequantizeLinear, Conv/Gemm biases as int32 at scale x_scale * w_scale. This is
// the layout onnxruntime turns into QLinearConv / QLinearMatMul / QGemm.
import type { GraphProto } from '../onnx/gen/onnx_pb';
import { getAttribute } from '../onnx/attributes';
import type { NodeRef } from '../onnx/model';
import type { CalibrationTarget } from './calibrate';
import { dequantizedWeight } from './qdq-weights';
import { quantRange, roundHalfEven, scaleZeroPoint, type ScaleZeroPoint } from './quant-math';
import type { RewriteContext } from './rewrite-context';
import type { NodeRewriter } from './rewriter';
import { convWeight, gemmParts, matmulWeight } from './weights';

/** Inputs of the node that are activations to quantize with calibrated ranges. */
function activationInputs(ctx: RewriteContext, ref: NodeRef): number[] {
  if (ref.node.opType !== 'MatMul') return [0];
  return [0, 1].filter((i) => !ctx.scope.findConstant(ref.node.input[i], ref.graph));
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

export function staticTensorsToCalibrate(ctx: RewriteContext, candidates: NodeRef[]): CalibrationTarget[] {
  const targets = new Map<string, CalibrationTarget>();
  const add = (name: string, graphPath: string) => targets.set(`${graphPath}\n${name}`, { name, graphPath });
  for (const ref of candidates) {
    for (const i of activationInputs(ctx, ref)) add(ref.node.input[i], ref.graphPath);
    add(ref.node.output[0], ref.graphPath);
  }
  return [...targets.values()];
}

function activationParams(ctx: RewriteContext, name: string): ScaleZeroPoint {
  const known = ctx.quantizedValues.get(name);
  if (known) return known;
  const range = ctx.ranges.get(name);
  if (!range) throw new Error(`no calibration range for "${name}"`);
  const o = ctx.options;
  return scaleZeroPoint(range[0], range[1], quantRange(o.activationType, { symmetric: o.symmetricActivations }), o.symmetricActivations);
}

function zeroPointArray(ctx: RewriteContext, zeroPoint: number): Int8Array | Uint8Array {
  return ctx.options.activationType === 'int8' ? Int8Array.of(zeroPoint) : Uint8Array.of(zeroPoint);
}

/** Q -> DQ of `input` into `output` with calibrated parameters (initializers go to `graph`). */
function qdqPair(ctx: RewriteContext, graph: GraphProto, input: string, output: string, params: ScaleZeroPoint, base: string) {
  const scale = ctx.scope.addInitializer(graph, `${base}_scale`, Float32Array.of(params.scale), []);
  const zeroPoint = ctx.scope.addInitializer(graph, `${base}_zero_point`, zeroPointArray(ctx, params.zeroPoint), [], ctx.options.activationType);
  const q = ctx.scope.fresh(`${base}_quantized`);
  return [
    ctx.node('QuantizeLinear', [input, scale, zeroPoint], [q], base),
    ctx.node('DequantizeLinear', [q, scale, zeroPoint], [output], base),
  ];
}

/** The dequantized form of an activation, made once per graph; values already behind a DQ are reused. */
function quantizedActivation(ctx: RewriteContext, graph: GraphProto, name: string): string {
  if (ctx.quantizedValues.has(name)) return name;
  const params = activationParams(ctx, name);
  const [out] = ctx.sharedValues(graph, `qdq:${name}`, () => {
    const output = ctx.scope.fresh(`${name}_dequantized`);
    return { nodes: qdqPair(ctx, graph, name, output, params, name), names: [output] };
  });
  return out;
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

const staticRewriter: NodeRewriter = {
  check: (ctx, ref) => {
    const problem = weightProblem(ctx, ref);
    if (problem) return problem;
    if (!ctx.calibrated) return undefined;
    for (const name of [...activationInputs(ctx, ref).map((i) => ref.node.input[i]), ref.node.output[0]]) {
      if (!ctx.ranges.has(name) && !ctx.quantizedValues.has(name)) {
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
    const outputParams = activationParams(ctx, node.output[0]);
    for (const i of activationInputs(ctx, ref)) node.input[i] = quantizedActivation(ctx, ref.graph, node.input[i]);
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
    const output = node.output[0];
    const base = node.name || output;
    const floatOutput = ctx.scope.fresh(`${output}_float`);
    node.output[0] = floatOutput;
    ref.graph.node.push(...qdqPair(ctx, ref.graph, floatOutput, output, outputParams, `${base}_output`));
    ctx.quantizedValues.set(output, outputParams);
    return `QDQ ${o.activationType} activations, ${weightNote}`;
  },
};

export const staticRewriters: Record<string, NodeRewriter> = {
  MatMul: staticRewriter,
  Gemm: staticRewriter,
  Conv: staticRewriter,
};
