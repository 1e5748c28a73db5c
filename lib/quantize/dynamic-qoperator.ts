// Dynamic quantization in the QOperator format: an activation is quantized at run time by one
// DynamicQuantizeLinear (shared by all its readers), multiplied in integers by int8 weights
// (MatMulInteger / ConvInteger), and scaled back to float:
//   y = float(MatMulInteger(xq, Wq, xzp, Wzp)) * (x_scale * W_scale) [+ bias]
// onnxruntime fuses MatMulInteger -> Cast -> Mul (-> Add bias) into MatMulIntegerToFloat.
import { TensorProto_DataType as DataType, type GraphProto } from '../onnx/gen/onnx_pb';
import { getAttribute, type AttributeValue } from '../onnx/attributes';
import type { NodeRef } from '../onnx/model';
import { rewriterOver, type NodeRewriter } from './rewriter';
import type { RewriteContext } from './rewrite-context';
import { replaceInGraph } from './rewrite-context';
import { channelShape, convWeight, gemmParts, matmulWeight } from './weights';
import { embeddingRewriter } from './embedding';

/** One DynamicQuantizeLinear per activation and graph: [quantized, scale, zero point]. */
export function dynamicActivation(ctx: RewriteContext, graph: GraphProto, name: string): [string, string, string] {
  const names = ctx.sharedValues(graph, `dql:${name}`, () => {
    const outs = [ctx.scope.fresh(`${name}_quantized`), ctx.scope.fresh(`${name}_scale`), ctx.scope.fresh(`${name}_zero_point`)];
    return { nodes: [ctx.node('DynamicQuantizeLinear', [name], outs, name)], names: outs };
  });
  return names as [string, string, string];
}

const CONV_ATTRIBUTES = ['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides'];

function copyAttributes(ref: NodeRef, names: string[]): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const a of ref.node.attribute) if (names.includes(a.name)) out[a.name] = getAttribute(ref.node, a.name) as AttributeValue;
  return out;
}

/** MatMulInteger + Cast + Mul(x_scale * w_scale), writing `output`. */
function integerMatMul(ctx: RewriteContext, ref: NodeRef, activation: string, w: { q: string; scale: string; zeroPoint: string }, output: string) {
  const base = ref.node.name || output;
  const [xq, xScale, xZp] = dynamicActivation(ctx, ref.graph, activation);
  const product = ctx.scope.fresh(`${base}_int32`);
  const asFloat = ctx.scope.fresh(`${base}_float`);
  const scale = ctx.scope.fresh(`${base}_output_scale`);
  return [
    ctx.node('MatMulInteger', [xq, w.q, xZp, w.zeroPoint], [product], base),
    ctx.node('Cast', [product], [asFloat], base, { to: DataType.FLOAT }),
    ctx.node('Mul', [xScale, w.scale], [scale], base),
    ctx.node('Mul', [asFloat, scale], [output], base),
  ];
}

const matmul = rewriterOver((ctx, ref) => matmulWeight(ctx.scope, ref), (ctx, ref, w) => {
  const axis = ctx.options.perChannel ? 1 : null;
  const qw = ctx.quantizeWeight(w.ref.name, { variant: `kn:${axis}`, values: w.values, dims: [w.k, w.n], axis, graph: w.ref.graph, baseName: w.ref.name });
  ctx.scope.markReplaced(w.ref);
  replaceInGraph(ref.graph, ref.node, integerMatMul(ctx, ref, ref.node.input[0], qw, ref.node.output[0]));
  return `MatMulInteger, ${axis === null ? 'per-tensor' : 'per-channel'} ${ctx.options.weightType} weight [${w.k}, ${w.n}]`;
});

const gemm = rewriterOver((ctx, ref) => gemmParts(ctx.scope, ref), (ctx, ref, parts) => {
  const { weight: w, alpha, beta, c } = parts;
  const axis = ctx.options.perChannel ? 1 : null;
  const qw = ctx.quantizeWeight(w.ref.name, {
    variant: `${w.variant}:${axis}:${alpha}`, values: w.values, dims: [w.k, w.n], axis, graph: w.ref.graph, baseName: w.ref.name, scaleFactor: alpha,
  });
  ctx.scope.markReplaced(w.ref);
  const output = ref.node.output[0];
  const base = ref.node.name || output;
  const product = c ? ctx.scope.fresh(`${base}_product`) : output;
  const nodes = integerMatMul(ctx, ref, ref.node.input[0], qw, product);
  if (c) {
    let bias = c;
    if (beta !== 1) {
      const constant = ctx.scope.floatConstant(c, ref.graph);
      bias = constant
        ? ctx.scope.addInitializer(constant.ref.graph, `${c}_scaled`, constant.values.map((v) => v * beta), constant.dims)
        : ctx.scope.fresh(`${c}_scaled`);
      if (constant) ctx.scope.markReplaced(constant.ref);
      else nodes.push(ctx.node('Mul', [c, ctx.scope.addInitializer(ref.graph, `${base}_beta`, Float32Array.of(beta), [])], [bias], base));
    }
    nodes.push(ctx.node('Add', [product, bias], [output], base));
  }
  replaceInGraph(ref.graph, ref.node, nodes);
  return `MatMulInteger, ${axis === null ? 'per-tensor' : 'per-channel'} ${ctx.options.weightType} weight [${w.k}, ${w.n}]`;
});

const conv: NodeRewriter = {
  check: (ctx, ref) => {
    const w = convWeight(ctx.scope, ref);
    if (typeof w === 'string') return w;
    if (ctx.options.perChannel && !ctx.options.symmetricWeights) {
      return "onnxruntime's ConvInteger takes a single weight zero point; per-channel Conv weights must be symmetric";
    }
    const bias = ref.node.input[2];
    if (bias && !ctx.scope.floatConstant(bias, ref.graph)) return 'the bias is not a float32 constant';
    return undefined;
  },
  rewrite: (ctx, ref) => {
    const w = convWeight(ctx.scope, ref);
    if (typeof w === 'string') throw new Error(w);
    const node = ref.node;
    const output = node.output[0];
    const base = node.name || output;
    const channels = w.dims[0];
    const outputRank = w.dims.length;
    const axis = ctx.options.perChannel ? 0 : null;
    const qw = ctx.quantizeWeight(w.ref.name, {
      variant: `conv:${axis}`, values: w.values, dims: w.dims, axis, graph: w.ref.graph, baseName: w.ref.name,
      paramDims: axis === null ? [] : channelShape(channels, outputRank),
      // Symmetric per-channel zero points are all equal: one scalar says the same to ConvInteger.
      scalarZeroPoint: true,
    });
    ctx.scope.markReplaced(w.ref);
    const [xq, xScale, xZp] = dynamicActivation(ctx, ref.graph, node.input[0]);
    const product = ctx.scope.fresh(`${base}_int32`);
    const asFloat = ctx.scope.fresh(`${base}_float`);
    const scale = ctx.scope.fresh(`${base}_output_scale`);
    const bias = node.input[2] ? ctx.scope.floatConstant(node.input[2], ref.graph) : undefined;
    const scaled = bias ? ctx.scope.fresh(`${base}_scaled`) : output;
    const nodes = [
      ctx.node('ConvInteger', [xq, qw.q, xZp, qw.zeroPoint], [product], base, copyAttributes(ref, CONV_ATTRIBUTES)),
      ctx.node('Cast', [product], [asFloat], base, { to: DataType.FLOAT }),
      ctx.node('Mul', [xScale, qw.scale], [scale], base),
      ctx.node('Mul', [asFloat, scale], [scaled], base),
    ];
    if (bias) {
      const reshaped = ctx.scope.addInitializer(bias.ref.graph, `${bias.ref.name}_per_channel`, bias.values, channelShape(channels, outputRank));
      nodes.push(ctx.node('Add', [scaled, reshaped], [output], base));
      ctx.scope.markReplaced(bias.ref);
    }
    replaceInGraph(ref.graph, node, nodes);
    return `ConvInteger, ${axis === null ? 'per-tensor' : 'per-channel'} ${ctx.options.weightType} weight [${w.dims.join(', ')}]`;
  },
};

export const dynamicQOperatorRewriters: Record<string, NodeRewriter> = {
  MatMul: matmul,
  Gemm: gemm,
  Conv: conv,
  Gather: embeddingRewriter,
};
