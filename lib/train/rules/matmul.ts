// Gradient rules of MatMul (numpy semantics: 1-D operands, broadcast batch dims) and Gemm.
import { attr } from '../../onnx/attributes';
import type { GraphWriter } from '../graph-writer';
import { sumToShape } from './broadcast';
import { floatAttr, intAttr, product, type GradientRule } from './rule';

/** Swap the last two axes of a value of rank `rank`. */
function swapLast(w: GraphWriter, x: string, rank: number): string {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return w.transpose(x, perm);
}

export const matmul: GradientRule = {
  inputs: [0, 1],
  grad: (ctx) => {
    const dY = ctx.dOutput(0);
    if (dY === undefined) return [];
    const w = ctx.w;
    const [a, b] = ctx.node.input;
    const aDims = ctx.dims(a);
    const bDims = ctx.dims(b);
    // 1-D operands are matrices with a unit axis, removed from the output: put it back.
    const a2 = aDims.length === 1 ? [1, aDims[0]] : aDims;
    const b2 = bDims.length === 1 ? [bDims[0], 1] : bDims;
    const yDims = ctx.dims(ctx.node.output[0]);
    const y2 = [...yDims];
    if (aDims.length === 1) y2.splice(y2.length - (bDims.length === 1 ? 0 : 1), 0, 1);
    if (bDims.length === 1) y2.push(1);
    const a2v = aDims.length === 1 ? w.reshape(a, a2) : a;
    const b2v = bDims.length === 1 ? w.reshape(b, b2) : b;
    const dY2 = y2.length === yDims.length ? dY : w.reshape(dY, y2);
    const rank = y2.length;
    let da: string | undefined;
    let db: string | undefined;
    if (ctx.needs(0)) {
      // A linear layer (2-D weight): dA = dY · Bᵀ without broadcast batch dims to sum.
      da = b2.length === 2 && a2.length >= 2
        ? w.op('MatMul', [dY2, w.transpose(b2v, [1, 0])])
        : sumToShape(w, w.op('MatMul', [dY2, swapLast(w, b2v, b2.length)]), [...y2.slice(0, -2), a2[a2.length - 2], a2[a2.length - 1]], a2);
      if (aDims.length === 1) da = w.reshape(da, aDims);
    }
    if (ctx.needs(1)) {
      if (b2.length === 2) {
        // Every row of every batch meets the same weight: one Gemm over the flattened rows.
        const k = a2[a2.length - 1];
        const rows = product(y2.slice(0, -1));
        db = w.op('Gemm', [w.reshape(a2v, [rows, k]), w.reshape(dY2, [rows, y2[rank - 1]])], { transA: 1 });
      } else {
        db = sumToShape(w, w.op('MatMul', [swapLast(w, a2v, a2.length), dY2]), [...y2.slice(0, -2), b2[b2.length - 2], b2[b2.length - 1]], b2);
      }
      if (bDims.length === 1) db = w.reshape(db, bDims);
    }
    return [da, db];
  },
};

/**
 * Y = α·A'·B' + β·C with A' = transA ? Aᵀ : A (B' likewise). dA' = α·dY·B'ᵀ and dB' = α·A'ᵀ·dY,
 * each written as one Gemm whose transpose flags undo the forward ones.
 */
export const gemm: GradientRule = {
  inputs: [0, 1, 2],
  grad: (ctx) => {
    const dY = ctx.dOutput(0);
    if (dY === undefined) return [];
    const w = ctx.w;
    const [a, b, c = ''] = ctx.node.input;
    const alpha = floatAttr(ctx.node, 'alpha', 1);
    const beta = floatAttr(ctx.node, 'beta', 1);
    const transA = intAttr(ctx.node, 'transA', 0);
    const transB = intAttr(ctx.node, 'transB', 0);
    const scaled = { alpha: attr.float(alpha) };
    const da = !ctx.needs(0) ? undefined : transA
      ? w.op('Gemm', [b, dY], { ...scaled, transA: transB, transB: 1 })
      : w.op('Gemm', [dY, b], { ...scaled, transB: 1 - transB });
    const db = !ctx.needs(1) ? undefined : transB
      ? w.op('Gemm', [dY, a], { ...scaled, transA: 1, transB: transA })
      : w.op('Gemm', [a, dY], { ...scaled, transA: 1 - transA });
    let dc: string | undefined;
    if (c !== '' && ctx.needs(2)) {
      const summed = sumToShape(w, dY, ctx.dims(ctx.node.output[0]), ctx.dims(c));
      dc = beta === 1 ? summed : w.op('Mul', [summed, ctx.scalar(beta)]);
    }
    return [da, db, dc];
  },
};
