// A constant weight stored as integers and turned back into float by a DequantizeLinear node:
// the form QDQ models use, which onnxruntime folds into its integer kernels where it can.
import type { GraphProto } from '../onnx/gen/onnx_pb';
import type { ConstantRef } from './graph-scope';
import type { QuantizedWeight, RewriteContext } from './rewrite-context';

export interface DequantizedWeight {
  /** The float value the DequantizeLinear node produces. */
  output: string;
  weight: QuantizedWeight;
}

/**
 * Quantizes `ref` (values given in its stored layout) along `axis` and adds one shared
 * DequantizeLinear next to the readers in `graph`.
 */
export function dequantizedWeight(ctx: RewriteContext, graph: GraphProto, ref: ConstantRef, values: Float32Array,
  dims: number[], axis: number | null): DequantizedWeight {
  const weight = ctx.quantizeWeight(ref.name, { variant: `qdq:${axis}`, values, dims, axis, graph: ref.graph, baseName: ref.name });
  ctx.scope.markReplaced(ref);
  const [output] = ctx.sharedValues(graph, `dq:${ref.name}:${axis}`, () => {
    const out = ctx.scope.fresh(`${ref.name}_dequantized`);
    const attrs: Record<string, number> = axis === null ? {} : { axis };
    return { nodes: [ctx.node('DequantizeLinear', [weight.q, weight.scale, weight.zeroPoint], [out], ref.name, attrs)], names: [out] };
  });
  return { output, weight };
}
