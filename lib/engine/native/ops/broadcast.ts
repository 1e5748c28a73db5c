// NumPy broadcasting of shapes, and operand strides aligned to the broadcast result.
import { LoweringError } from '../errors';
import type { IrNode } from '../ir';
import type { ValueRef } from '../lower-context';
import { stridesOf } from '../tensor-data';

export function broadcastShapes(node: IrNode, shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const d = s[s.length - 1 - i], at = rank - 1 - i;
      if (d === out[at] || d === 1) continue;
      if (out[at] !== 1) throw new LoweringError(node.name, node.op, `shapes [${shapes.map((x) => x.join(',')).join('] and [')}] do not broadcast`);
      out[at] = d;
    }
  }
  return out;
}

/** Strides of `dims`/`strides` read as `outDims` (0 along broadcast axes). */
export function alignStrides(dims: readonly number[], strides: readonly number[], outDims: readonly number[]): number[] {
  const out = new Array<number>(outDims.length).fill(0);
  for (let i = 0; i < dims.length; i++) {
    const at = outDims.length - dims.length + i;
    out[at] = dims[i] === 1 && outDims[at] !== 1 ? 0 : strides[i];
  }
  return out;
}

export function refStridesFor(ref: ValueRef, outDims: readonly number[]): number[] {
  return alignStrides(ref.dims, ref.strides, outDims);
}

/** Flat index of each output element in an operand of `dims` (row-major), for JS folding. */
export function broadcastIndex(dims: readonly number[], outDims: readonly number[]): (i: number) => number {
  const strides = alignStrides(dims, stridesOf(dims), outDims);
  const outStrides = stridesOf(outDims);
  return (i: number) => {
    let at = 0;
    for (let d = 0; d < outDims.length; d++) {
      const coord = Math.floor(i / outStrides[d]) % outDims[d];
      at += coord * strides[d];
    }
    return at;
  };
}
