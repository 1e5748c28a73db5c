// What folding a per-output-channel operation into the Conv in front of it shares (batch norms, and
// Mul/Add by a constant): new weight and bias initializers for the Conv, the old ones marked replaced.
import type { NodeProto } from '../onnx/gen/onnx_pb';
import type { GraphScope } from './graph-scope';

type FloatConstant = NonNullable<ReturnType<GraphScope['floatConstant']>>;

export const isDefaultDomain = (node: NodeProto) => node.domain === '' || node.domain === 'ai.onnx';

export interface ChannelFold {
  /** Multiplies output channel c's weights (omitted: the weights stay as they are). */
  scale?: (c: number) => number;
  /** The folded bias of channel c from its old bias b (0 without one). */
  bias: (c: number, b: number) => number;
}

/** Gives `conv` the weights and bias of `fold` applied to its output channels; `tag` names the new initializers. */
export function foldIntoConv(scope: GraphScope, conv: NodeProto, weight: FloatConstant, bias: FloatConstant | undefined,
  fold: ChannelFold, tag: string): void {
  const channels = weight.dims[0];
  const { scale } = fold;
  if (scale) {
    const perChannel = weight.values.length / channels;
    const folded = new Float32Array(weight.values.length);
    for (let c = 0; c < channels; c++) {
      const g = scale(c);
      for (let i = c * perChannel; i < (c + 1) * perChannel; i++) folded[i] = weight.values[i] * g;
    }
    conv.input[1] = scope.addInitializer(weight.ref.graph, `${weight.ref.name}_${tag}_folded`, folded, weight.dims);
    scope.markReplaced(weight.ref);
  }
  const foldedBias = Float32Array.from({ length: channels }, (_, c) => fold.bias(c, bias?.values[c] ?? 0));
  conv.input[2] = scope.addInitializer(weight.ref.graph, `${conv.name || conv.output[0]}_bias_${tag}_folded`, foldedBias, [channels]);
  if (bias) scope.markReplaced(bias.ref);
}
