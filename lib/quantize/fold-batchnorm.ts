// Folds BatchNormalization into the Conv in front of it (W' = W * g, b' = (b - mean) * g + beta with
// g = scale / sqrt(var + eps)) before quantizing. Left unfolded, a batch norm sits between the integer
// conv and the next quantized op, so onnxruntime cannot fuse it and the weights are quantized at a scale
// the norm then stretches. The Conv keeps its name and takes over the norm's output.
import type { GraphProto, NodeProto } from '../onnx/gen/onnx_pb';
import { getAttribute } from '../onnx/attributes';
import type { Model } from '../onnx/model';
import { allGraphs } from '../onnx/proto-walk';
import type { GraphScope } from './graph-scope';
import { foldIntoConv, isDefaultDomain } from './fold-into-conv';

/** How many nodes anywhere in the model read `name` (bodies included), plus graph outputs. */
function readers(model: Model, name: string): number {
  let count = 0;
  for (const { graph } of allGraphs(model.graph)) {
    for (const n of graph.node) for (const input of n.input) if (input === name) count++;
    for (const o of graph.output) if (o.name === name) count++;
  }
  return count;
}

function foldOne(model: Model, scope: GraphScope, graph: GraphProto, bn: NodeProto): boolean {
  if (!isDefaultDomain(bn) || bn.output.filter((o) => o !== '').length !== 1 || (getAttribute(bn, 'training_mode') ?? 0) !== 0) return false;
  const conv = graph.node.find((n) => n.opType === 'Conv' && isDefaultDomain(n) && n.output[0] === bn.input[0]);
  if (!conv || readers(model, conv.output[0]) !== 1) return false;
  const weight = scope.floatConstant(conv.input[1], graph);
  const params = [1, 2, 3, 4].map((i) => scope.floatConstant(bn.input[i], graph));
  const bias = conv.input[2] ? scope.floatConstant(conv.input[2], graph) : undefined;
  if (!weight || params.some((p) => !p) || (conv.input[2] && !bias)) return false;
  const [scale, beta, mean, variance] = params.map((p) => (p as NonNullable<typeof p>).values);
  const channels = weight.dims[0];
  if ([scale, beta, mean, variance].some((v) => v.length !== channels)) return false;
  const epsilon = (getAttribute(bn, 'epsilon') as number | undefined) ?? 1e-5;
  const g = Array.from({ length: channels }, (_, c) => scale[c] / Math.sqrt(variance[c] + epsilon));
  foldIntoConv(scope, conv, weight, bias, { scale: (c) => g[c], bias: (c, b) => (b - mean[c]) * g[c] + beta[c] }, 'bn');
  conv.output[0] = bn.output[0];
  for (const constant of params) if (constant) scope.markReplaced(constant.ref);
  graph.node.splice(graph.node.indexOf(bn), 1);
  return true;
}

/** Folds every foldable Conv -> BatchNormalization pair in every graph; returns how many. */
export function foldBatchNorms(model: Model, scope: GraphScope): number {
  let folded = 0;
  for (const { graph } of allGraphs(model.graph)) {
    for (const bn of graph.node.filter((n) => n.opType === 'BatchNormalization')) if (foldOne(model, scope, graph, bn)) folded++;
  }
  if (folded > 0) scope.finish();
  return folded;
}
