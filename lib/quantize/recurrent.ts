// Dynamic quantization of recurrent layers, as onnxruntime's own quantizer does it (LSTMQuant):
// LSTM becomes com.microsoft DynamicQuantizeLSTM with int8 symmetric W and R, transposed to
// [directions, input, 4*hidden] and [directions, hidden, 4*hidden]; scales per direction (per
// tensor) or per direction and gate row (per channel); zero points 0. Bias, sequence lengths,
// initial states and peepholes stay float inputs.
// GRU: onnxruntime has no quantized GRU kernel (no DynamicQuantizeGRU contrib op, and its quantizer
// registers LSTM only), so GRU nodes stay float and the report says why.
import type { NodeProto } from '../onnx/gen/onnx_pb';
import type { NodeRef } from '../onnx/model';
import { MS_DOMAIN } from './matmul-nbits';
import { quantizeTensor } from './quant-math';
import { replaceInGraph, type RewriteContext } from './rewrite-context';
import { rewriterOver, type NodeRewriter } from './rewriter';

interface LstmWeights {
  w: { values: Float32Array; dims: number[] };
  r: { values: Float32Array; dims: number[] };
  refs: ReturnType<RewriteContext['scope']['floatConstant']>[];
}

function lstmWeights(ctx: RewriteContext, ref: NodeRef): LstmWeights | string {
  const node = ref.node;
  const layout = node.attribute.find((a) => a.name === 'layout');
  if (layout && Number(layout.i) !== 0) return 'layout=1 (batch first) LSTM has no DynamicQuantizeLSTM form';
  const w = ctx.scope.floatConstant(node.input[1], ref.graph);
  const r = ctx.scope.floatConstant(node.input[2], ref.graph);
  if (!w || !r) return 'W or R is not a float32 constant';
  if (w.dims.length !== 3 || r.dims.length !== 3) return 'W and R must be 3-D';
  return { w: { values: w.values, dims: w.dims }, r: { values: r.values, dims: r.dims }, refs: [w, r] };
}

/** [D, rows, cols] -> [D, cols, rows], per direction. */
function transposeInner(data: Int8Array, d: number, rows: number, cols: number): Int8Array {
  const out = new Int8Array(data.length);
  for (let k = 0; k < d; k++) {
    const base = k * rows * cols;
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[base + j * rows + i] = data[base + i * cols + j];
  }
  return out;
}

function quantizeGateWeight(ctx: RewriteContext, ref: NodeRef, name: string, values: Float32Array, dims: number[]): [string, string, string] {
  const [d, rows, cols] = dims;
  const perChannel = ctx.options.perChannel;
  // Per channel: one scale per (direction, gate row), i.e. axis 0 of [D * 4H, cols]; else one per direction.
  const q = quantizeTensor(values, perChannel ? [d * rows, cols] : [d, rows * cols], { type: 'int8', symmetric: true, reduceRange: ctx.options.reduceRange, axis: 0 });
  const paramDims = perChannel ? [d, rows] : [d];
  const transposed = transposeInner(q.data as Int8Array, d, rows, cols);
  return [
    ctx.scope.addInitializer(ref.graph, `${name}_quantized`, transposed, [d, cols, rows], 'int8'),
    ctx.scope.addInitializer(ref.graph, `${name}_scale`, q.scales, paramDims),
    ctx.scope.addInitializer(ref.graph, `${name}_zero_point`, new Int8Array(q.zeroPoints.length), paramDims, 'int8'),
  ];
}

const lstm = rewriterOver(lstmWeights, (ctx, ref, parts) => {
  const node = ref.node;
  const [wq, wScale, wZp] = quantizeGateWeight(ctx, ref, node.input[1], parts.w.values, parts.w.dims);
  const [rq, rScale, rZp] = quantizeGateWeight(ctx, ref, node.input[2], parts.r.values, parts.r.dims);
  for (const p of parts.refs) if (p) ctx.scope.markReplaced(p.ref);
  const optional = Array.from({ length: 5 }, (_, i) => node.input[3 + i] ?? '');
  const inputs = [node.input[0], wq, rq, ...optional, wScale, wZp, rScale, rZp];
  const replacement: NodeProto = ctx.node('DynamicQuantizeLSTM', inputs, [...node.output], node.name || node.output[0], {}, MS_DOMAIN);
  replacement.attribute = node.attribute.filter((a) => a.name !== 'layout');
  replaceInGraph(ref.graph, node, [replacement]);
  const [d, gates, input] = parts.w.dims;
  return `DynamicQuantizeLSTM, ${ctx.options.perChannel ? 'per-channel' : 'per-direction'} int8 W [${d}, ${gates}, ${input}] and R [${parts.r.dims.join(', ')}]`;
});

const gru: NodeRewriter = {
  check: () => 'onnxruntime has no quantized GRU kernel (no DynamicQuantizeGRU contrib op): kept in float',
  rewrite: () => {
    throw new Error('unreachable: GRU is never a candidate');
  },
};

export const recurrentRewriters: Record<string, NodeRewriter> = { LSTM: lstm, GRU: gru };
