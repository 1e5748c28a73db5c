// Block-wise n-bit weight quantization in the layout of com.microsoft MatMulNBits:
// B [N, blocks, blob] uint8 codes packed low bits first along K; scales [N, blocks];
// optional zero points packed the same way per row, [N, ceil(blocks * bits / 8)].
import { roundHalfEven } from './quant-math';

export interface BlockwiseOptions {
  /** 2..8; MatMulNBits kernels in onnxruntime are fastest at 4. */
  bits: number;
  /** Power of two, at least 16. */
  blockSize: number;
  /** Symmetric blocks use the implicit zero point 2^(bits-1); otherwise each block stores its own. */
  symmetric: boolean;
}

export interface BlockwiseWeights {
  k: number;
  n: number;
  blocks: number;
  /** [N, blocks, blockSize * bits / 8]. */
  packed: Uint8Array;
  /** [N, blocks]. */
  scales: Float32Array;
  /** [N, ceil(blocks * bits / 8)] packed; null when symmetric. */
  zeroPoints: Uint8Array | null;
}

export function checkBlockwiseOptions(options: BlockwiseOptions): void {
  if (![2, 4, 8].includes(options.bits)) throw new RangeError(`bits must be 2, 4 or 8 for block-wise weights, got ${options.bits}`);
  const b = options.blockSize;
  if (!Number.isInteger(b) || b < 16 || (b & (b - 1)) !== 0) throw new RangeError(`block size must be a power of two >= 16, got ${b}`);
}

/** Writes `value` (0 .. 2^bits-1) as the index-th code of a low-bits-first packed byte array. */
function putCode(out: Uint8Array, byteOffset: number, index: number, bits: number, value: number): void {
  const bit = index * bits;
  out[byteOffset + (bit >> 3)] |= value << (bit & 7);
}

/**
 * Quantizes a MatMul weight W [K, N] (row-major, as MatMul's second input) block-wise along K.
 * Symmetric: the largest-magnitude value of a block maps to code 0 (value -2^(bits-1)), as onnxruntime's
 * own quantizer does, so one extreme is exact. Asymmetric: [min(0, lo), max(0, hi)] maps onto all codes.
 */
export function quantizeBlockwise(weight: Float32Array, k: number, n: number, options: BlockwiseOptions): BlockwiseWeights {
  checkBlockwiseOptions(options);
  if (weight.length !== k * n) throw new RangeError(`weight holds ${weight.length} values, [${k}, ${n}] needs ${k * n}`);
  const { bits, blockSize, symmetric } = options;
  const blocks = Math.ceil(k / blockSize);
  const blob = (blockSize * bits) / 8;
  const levels = (1 << bits) - 1;
  const mid = 1 << (bits - 1);
  const packed = new Uint8Array(n * blocks * blob);
  const scales = new Float32Array(n * blocks);
  const zpBytesPerRow = Math.ceil((blocks * bits) / 8);
  const zeroPoints = symmetric ? null : new Uint8Array(n * zpBytesPerRow);
  for (let col = 0; col < n; col++) {
    for (let blk = 0; blk < blocks; blk++) {
      const k0 = blk * blockSize;
      const k1 = Math.min(k, k0 + blockSize);
      let scale: number;
      let zp: number;
      if (symmetric) {
        let extreme = 0;
        for (let r = k0; r < k1; r++) {
          const v = weight[r * n + col];
          if (Math.abs(v) > Math.abs(extreme)) extreme = v;
        }
        scale = Math.fround(extreme / -mid);
        zp = mid;
      } else {
        let lo = 0;
        let hi = 0;
        for (let r = k0; r < k1; r++) {
          const v = weight[r * n + col];
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
        scale = Math.fround((hi - lo) / levels);
        zp = scale === 0 ? mid : Math.min(levels, Math.max(0, roundHalfEven(-lo / scale)));
      }
      const reciprocal = scale === 0 ? 0 : 1 / scale;
      const blockIndex = col * blocks + blk;
      scales[blockIndex] = scale;
      const offset = blockIndex * blob;
      for (let r = k0; r < k0 + blockSize; r++) {
        // Padding past K holds the zero point: it dequantizes to 0.
        const code = r < k1 ? Math.min(levels, Math.max(0, roundHalfEven(Math.fround(weight[r * n + col] * reciprocal)) + zp)) : zp;
        putCode(packed, offset, r - k0, bits, code);
      }
      if (zeroPoints) putCode(zeroPoints, col * zpBytesPerRow, blk, bits, zp);
    }
  }
  return { k, n, blocks, packed, scales, zeroPoints };
}

/** Back to a float [K, N] matrix: what MatMulNBits multiplies by. */
export function dequantizeBlockwise(w: BlockwiseWeights, options: BlockwiseOptions): Float32Array {
  const { bits, blockSize } = options;
  const blob = (blockSize * bits) / 8;
  const mask = (1 << bits) - 1;
  const zpBytesPerRow = Math.ceil((w.blocks * bits) / 8);
  const out = new Float32Array(w.k * w.n);
  const code = (bytes: Uint8Array, offset: number, index: number): number => {
    const bit = index * bits;
    return (bytes[offset + (bit >> 3)] >> (bit & 7)) & mask;
  };
  for (let col = 0; col < w.n; col++) {
    for (let blk = 0; blk < w.blocks; blk++) {
      const blockIndex = col * w.blocks + blk;
      const zp = w.zeroPoints ? code(w.zeroPoints, col * zpBytesPerRow, blk) : 1 << (bits - 1);
      const scale = w.scales[blockIndex];
      for (let r = blk * blockSize; r < Math.min(w.k, (blk + 1) * blockSize); r++) {
        out[r * w.n + col] = (code(w.packed, blockIndex * blob, r - blk * blockSize) - zp) * scale;
      }
    }
  }
  return out;
}
