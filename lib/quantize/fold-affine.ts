// Folds a Mul or Add by a constant (one value, or one per output channel) that alone reads a Conv's
// output into the Conv: W' = W * a, b' = b * a (Mul), b' = b + c (Add), repeated along a chain, before
// quantizing, as batch norms are folded. PaddlePaddle exports PP-LCNet (the PP-OCR recognizer's
// backbone) with such a learnable affine after every conv; left in place, QLinearMul and QLinearAdd
// requantize each conv output twice more, which costs the recognizer most of its int8 accuracy.
import type { GraphProto, NodeProto } from '../onnx/gen/onnx_pb';
import type { Model } from '../onnx/model';
import { allGraphs } from '../onnx/proto-walk';
import type { GraphScope } from './graph-scope';
import { foldIntoConv, isDefaultDomain } from './fold-into-conv';

/** The one node reading `name` in `graph`, when nothing else (no other node, no graph output, no body) does. */
function soleReader(model: Model, graph: GraphProto, name: string): NodeProto | undefined {
  const readers = model.consumers(name);
  if (readers.length !== 1 || readers[0].graph !== graph) return undefined;
  if (allGraphs(model.graph).some(({ graph: g }) => g.output.some((o) => o.name === name))) return undefined;
  return readers[0].node;
}

/**
 * Per output channel, the constant operand of a Mul/Add applied to a conv output of rank `rank` with
 * `channels` channels: a scalar, or a tensor whose only non-1 dim lines up with axis 1. Undefined otherwise.
 */
function perChannel(values: Float32Array, dims: number[], rank: number, channels: number): Float32Array | undefined {
  if (values.length === 1) return new Float32Array(channels).fill(values[0]);
  if (values.length !== channels || dims.length > rank) return undefined;
  // Broadcasting aligns dims from the right: axis 1 of the output is this index of the constant.
  const channelAxis = dims.length - (rank - 1);
  return channelAxis >= 0 && dims[channelAxis] === channels ? Float32Array.from(values) : undefined;
}

function foldOne(model: Model, scope: GraphScope, graph: GraphProto, conv: NodeProto): boolean {
  const reader = soleReader(model, graph, conv.output[0]);
  if (!reader || !isDefaultDomain(reader) || (reader.opType !== 'Mul' && reader.opType !== 'Add') || reader.input.length !== 2) return false;
  const weight = scope.floatConstant(conv.input[1], graph);
  const bias = conv.input[2] ? scope.floatConstant(conv.input[2], graph) : undefined;
  if (!weight || (conv.input[2] && !bias)) return false;
  const constantName = reader.input[0] === conv.output[0] ? reader.input[1] : reader.input[0];
  if (constantName === conv.output[0]) return false;
  const constant = scope.floatConstant(constantName, graph);
  const channels = weight.dims[0];
  const factor = constant && perChannel(constant.values, constant.dims, weight.dims.length, channels);
  if (!factor) return false;
  const fold = reader.opType === 'Mul'
    ? { scale: (c: number) => factor[c], bias: (c: number, b: number) => b * factor[c] }
    : { bias: (c: number, b: number) => b + factor[c] };
  foldIntoConv(scope, conv, weight, bias, fold, 'affine');
  if (constant) scope.markReplaced(constant.ref);
  conv.output[0] = reader.output[0];
  graph.node.splice(graph.node.indexOf(reader), 1);
  model.invalidate();
  return true;
}

/** Folds every Conv -> Mul/Add-by-constant chain in every graph; returns how many Mul/Add nodes went. */
export function foldConvAffines(model: Model, scope: GraphScope): number {
  let folded = 0;
  for (const { graph } of allGraphs(model.graph)) {
    for (const conv of graph.node.filter((n) => n.opType === 'Conv' && isDefaultDomain(n))) {
      while (foldOne(model, scope, graph, conv)) folded++;
    }
  }
  if (folded > 0) scope.finish();
  return folded;
}
