// com.microsoft MatMulNBits (our weight-only int4 output): block-wise 2-8 bit weights, read
// back to float32 at load so the layer runs as a dense Linear, as onnxruntime's CPU kernel
// computes it at accuracy level 0 (dequantized weights, float math).
import { intAttr, type IrNode } from './ir';
import type { ConstTensor } from './tensor-data';

export const MS_DOMAIN = 'com.microsoft';

/** The code at `index` of a low-bits-first packed byte array. */
function code(bytes: ArrayLike<number>, index: number, bits: number): number {
  const bit = index * bits;
  const lo = bytes[bit >> 3] >> (bit & 7);
  const hi = (bit & 7) + bits > 8 ? bytes[(bit >> 3) + 1] << (8 - (bit & 7)) : 0;
  return (lo | hi) & ((1 << bits) - 1);
}

/** W [K, N] row-major from B [N, blocks, blob], scales [N, blocks] and optional packed zero points. */
export function dequantizeNBits(node: IrNode, b: ConstTensor, scales: ConstTensor, zeroPoints: ConstTensor | undefined): Float32Array | string {
  const k = intAttr(node, 'K', 0), n = intAttr(node, 'N', 0), bits = intAttr(node, 'bits', 4), blockSize = intAttr(node, 'block_size', 0);
  if (bits < 2 || bits > 8 || blockSize <= 0) return `bits ${bits} / block_size ${blockSize} are not supported`;
  const blocks = Math.ceil(k / blockSize), blob = (blockSize * bits) / 8;
  if (b.dtype !== 'uint8' || b.data.length !== n * blocks * blob) return 'B does not match K, N, bits and block_size';
  if (scales.dtype !== 'float32' || scales.data.length !== n * blocks) return 'only float32 scales, one per block, are supported';
  const zpBytes = Math.ceil((blocks * bits) / 8);
  if (zeroPoints && (zeroPoints.dtype !== 'uint8' || zeroPoints.data.length !== n * zpBytes)) return 'only packed uint8 zero points are supported';
  const w = new Float32Array(k * n);
  const s = scales.data as Float32Array;
  const midpoint = 1 << (bits - 1);
  for (let j = 0; j < n; j++) {
    const column = (b.data as Uint8Array).subarray(j * blocks * blob, (j + 1) * blocks * blob);
    const zpRow = zeroPoints ? (zeroPoints.data as Uint8Array).subarray(j * zpBytes, (j + 1) * zpBytes) : undefined;
    for (let blk = 0; blk < blocks; blk++) {
      const scale = s[j * blocks + blk];
      const zp = zpRow ? code(zpRow, blk, bits) : midpoint;
      for (let i = 0; i < blockSize; i++) {
        const kk = blk * blockSize + i;
        if (kk >= k) break;
        w[kk * n + j] = Math.fround((code(column, blk * blockSize + i, bits) - zp) * scale);
      }
    }
  }
  return w;
}
