// Weight-only 4-bit quantization: MatMul (and Gemm without transA) become com.microsoft MatMulNBits
// with block-wise 4-bit weights, which onnxruntime multiplies without ever materializing float weights.
import { rewriterOver, type NodeRewriter } from './rewriter';
import { replaceInGraph, type RewriteContext } from './rewrite-context';
import { quantizeLinearBlocks } from './gptq/nbits-weights';
import { gemmParts, matmulWeight, type LinearWeight } from './weights';
import type { NodeRef } from '../onnx/model';

export const MS_DOMAIN = 'com.microsoft';

function linear(ctx: RewriteContext, ref: NodeRef): { weight: LinearWeight; alpha: number; beta: number; c?: string } | string {
  if (ref.node.opType === 'Gemm') return gemmParts(ctx.scope, ref);
  const weight = matmulWeight(ctx.scope, ref);
  return typeof weight === 'string' ? weight : { weight, alpha: 1, beta: 1 };
}

function nbitsRewriter(): NodeRewriter {
  return rewriterOver(linear, (ctx, ref, parts) => {
    const { weight: w, alpha, beta, c } = parts;
    const o = ctx.options;
    const { blocks, note } = quantizeLinearBlocks(ctx, ref.node.name || ref.node.output[0], ref.node.input[0], w);
    if (alpha !== 1) for (let i = 0; i < blocks.scales.length; i++) blocks.scales[i] = Math.fround(blocks.scales[i] * alpha);
    const graph = w.ref.graph;
    const base = w.ref.name;
    const inputs = [
      ref.node.input[0],
      ctx.scope.addInitializer(graph, `${base}_q4`, blocks.packed, [w.n, blocks.blocks, (o.blockSize * 4) / 8]),
      ctx.scope.addInitializer(graph, `${base}_scales`, blocks.scales, [w.n, blocks.blocks]),
      blocks.zeroPoints ? ctx.scope.addInitializer(graph, `${base}_zero_points`, blocks.zeroPoints, [w.n, Math.ceil(blocks.blocks / 2)]) : '',
    ];
    ctx.scope.markReplaced(w.ref);
    const output = ref.node.output[0];
    const nodeBase = ref.node.name || output;
    const extra = [];
    let product = output;
    if (c) {
      const bias = ctx.scope.floatConstant(c, ref.graph);
      if (bias && bias.values.length === w.n && bias.dims.length <= 2 && bias.dims[bias.dims.length - 1] === w.n) {
        if (beta === 1 && bias.dims.length === 1) {
          inputs.push('', c);
        } else {
          inputs.push('', ctx.scope.addInitializer(bias.ref.graph, `${bias.ref.name}_bias`, bias.values.map((v) => v * beta), [w.n]));
          ctx.scope.markReplaced(bias.ref);
        }
      } else {
        product = ctx.scope.fresh(`${nodeBase}_product`);
        let scaled = c;
        if (beta !== 1) {
          scaled = ctx.scope.fresh(`${c}_scaled`);
          extra.push(ctx.node('Mul', [c, ctx.scope.addInitializer(ref.graph, `${nodeBase}_beta`, Float32Array.of(beta), [])], [scaled], nodeBase));
        }
        extra.push(ctx.node('Add', [product, scaled], [output], nodeBase));
      }
    }
    while (inputs[inputs.length - 1] === '') inputs.pop();
    const attrs = { K: w.k, N: w.n, bits: 4, block_size: o.blockSize, accuracy_level: o.accuracyLevel };
    replaceInGraph(ref.graph, ref.node, [ctx.node('MatMulNBits', inputs, [product], nodeBase, attrs, MS_DOMAIN), ...extra]);
    return `MatMulNBits, 4-bit ${o.symmetric ? 'symmetric' : 'asymmetric'} blocks of ${o.blockSize}${note}, weight [${w.k}, ${w.n}]`;
  });
}

const conv: NodeRewriter = {
  check: () => '4-bit weights cover MatMul and Gemm (MatMulNBits); use 8 bits for Conv',
  rewrite: () => {
    throw new Error('unreachable: Conv is never a 4-bit candidate');
  },
};

const gather: NodeRewriter = {
  check: () => '4-bit weights cover MatMul and Gemm (MatMulNBits); use 8 bits for Gather',
  rewrite: () => {
    throw new Error('unreachable: Gather is never a 4-bit candidate');
  },
};

export const weightOnlyInt4Rewriters: Record<string, NodeRewriter> = {
  MatMul: nbitsRewriter(),
  Gemm: nbitsRewriter(),
  Conv: conv,
  Gather: gather,
};
