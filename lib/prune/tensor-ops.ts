// Dense typed-array helpers for pruning: keep some indices along one axis, per-channel norms, 2-D transposes.
import type { TypedArray } from '../onnx/dtype';

function axisStrides(dims: readonly number[], axis: number): { outer: number; size: number; inner: number } {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= dims[i];
  for (let i = axis + 1; i < dims.length; i++) inner *= dims[i];
  return { outer, size: dims[axis], inner };
}

/** The elements of `data` (shape `dims`) at indices `keep` of `axis`, in that order; a new array. */
export function sliceAxis<T extends TypedArray>(data: T, dims: readonly number[], axis: number, keep: readonly number[]): { data: T; dims: number[] } {
  const { outer, size, inner } = axisStrides(dims, axis);
  const out = new (data.constructor as new (n: number) => T)(outer * keep.length * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < keep.length; j++) {
      const from = (o * size + keep[j]) * inner;
      out.set(data.subarray(from, from + inner) as never, (o * keep.length + j) * inner);
    }
  }
  const newDims = [...dims];
  newDims[axis] = keep.length;
  return { data: out, dims: newDims };
}

/** L2 norm of each index of `axis` over all other axes. */
export function channelNorms(data: Float32Array | Float64Array, dims: readonly number[], axis: number): Float64Array {
  const { outer, size, inner } = axisStrides(dims, axis);
  const sums = new Float64Array(size);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < size; c++) {
      const from = (o * size + c) * inner;
      let s = 0;
      for (let i = from; i < from + inner; i++) s += data[i] * data[i];
      sums[c] += s;
    }
  }
  return sums.map(Math.sqrt);
}

/** Row-major [rows, cols] -> [cols, rows]. */
export function transpose2d<T extends TypedArray>(data: T, rows: number, cols: number): T {
  const out = new (data.constructor as new (n: number) => T)(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}
