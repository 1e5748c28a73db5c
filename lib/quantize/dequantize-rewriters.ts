// Rewrites that keep the original op and feed it dequantized inputs:
// - weight-only int8: W -> DequantizeLinear(Wq) -> MatMul/Gemm/Conv (activations stay float);
// - dynamic QDQ: additionally x -> DynamicQuantizeLinear -> DequantizeLinear -> op, the pattern
//   onnxruntime matches to run the op on integers.
import { getAttribute } from '../onnx/attributes';
import type { GraphProto } from '../onnx/gen/onnx_pb';
import type { NodeRef } from '../onnx/model';
import { dynamicActivation } from './dynamic-qoperator';
import type { ConstantRef } from './graph-scope';
import { embeddingRewriter } from './embedding';
import { dequantizedWeight } from './qdq-weights';
import type { RewriteContext } from './rewrite-context';
import { rewriterOver, type NodeRewriter } from './rewriter';
import { convWeight, gemmParts, matmulWeight } from './weights';

/** x -> DynamicQuantizeLinear -> DequantizeLinear, once per activation and graph. */
function dynamicDequantized(ctx: RewriteContext, graph: GraphProto, name: string): string {
  const [q, scale, zeroPoint] = dynamicActivation(ctx, graph, name);
  const [out] = ctx.sharedValues(graph, `dq-activation:${name}`, () => {
    const output = ctx.scope.fresh(`${name}_dequantized`);
    return { nodes: [ctx.node('DequantizeLinear', [q, scale, zeroPoint], [output], name)], names: [output] };
  });
  return out;
}

interface StoredWeight {
  ref: ConstantRef;
  values: Float32Array;
  dims: number[];
  /** The output-feature axis of the weight as stored. */
  axis: number;
}

function storedWeight(ctx: RewriteContext, ref: NodeRef): StoredWeight | string {
  const op = ref.node.opType;
  const checked = op === 'Conv' ? convWeight(ctx.scope, ref) : op === 'Gemm' ? gemmParts(ctx.scope, ref) : matmulWeight(ctx.scope, ref);
  if (typeof checked === 'string') return checked;
  const stored = ctx.scope.floatConstant(ref.node.input[1], ref.graph);
  if (!stored) return 'the weight is not a float32 constant';
  // Per channel = per output feature: axis 0 of Conv and of Gemm's transposed [N, K], axis 1 of [K, N].
  const transB = op === 'Gemm' && (getAttribute(ref.node, 'transB') ?? 0) !== 0;
  return { ref: stored.ref, values: stored.values, dims: stored.dims, axis: op === 'Conv' || transB ? 0 : 1 };
}

function rewriter(activations: 'float' | 'dynamic'): NodeRewriter {
  return rewriterOver(storedWeight, (ctx, ref, w) => {
    const axis = ctx.options.perChannel ? w.axis : null;
    const dq = dequantizedWeight(ctx, ref.graph, w.ref, w.values, w.dims, axis);
    ref.node.input[1] = dq.output;
    if (activations === 'dynamic') ref.node.input[0] = dynamicDequantized(ctx, ref.graph, ref.node.input[0]);
    const how = activations === 'dynamic' ? 'DynamicQuantizeLinear + DequantizeLinear' : 'DequantizeLinear';
    return `${how}, ${axis === null ? 'per-tensor' : 'per-channel'} ${ctx.options.weightType} weight [${w.dims.join(', ')}]`;
  });
}

export const dynamicQdqRewriters: Record<string, NodeRewriter> = {
  MatMul: rewriter('dynamic'),
  Gemm: rewriter('dynamic'),
  Conv: rewriter('dynamic'),
  Gather: embeddingRewriter,
};

export const weightOnlyInt8Rewriters: Record<string, NodeRewriter> = {
  MatMul: rewriter('float'),
  Gemm: rewriter('float'),
  Conv: rewriter('float'),
  Gather: embeddingRewriter,
};
