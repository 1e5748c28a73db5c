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
  /**
   * Per block, try ranges shrunk by up to 30% and keep the one with the smallest squared error
   * (clipping a rare extreme buys resolution for the rest). Default true; false: plain min/max rounding.
   */
  clipSearch?: boolean;
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
export function putCode(out: Uint8Array, byteOffset: number, index: number, bits: number, value: number): void {
  const bit = index * bits;
  out[byteOffset + (bit >> 3)] |= value << (bit & 7);
}

export interface BlockParams {
  scale: number;
  zeroPoint: number;
}

export function codeOf(v: number, reciprocal: number, zeroPoint: number, levels: number): number {
  const q = roundHalfEven(Math.fround(v * reciprocal)) + zeroPoint;
  return q < 0 ? 0 : q > levels ? levels : q;
}

/** Squared error of a block at (scale, zeroPoint); ties round away from zero (only a ranking is needed). */
function squaredError(block: Float32Array, scale: number, zeroPoint: number, levels: number): number {
  const reciprocal = scale === 0 ? 0 : 1 / scale;
  let error = 0;
  for (let i = 0; i < block.length; i++) {
    const v = block[i];
    let q = Math.round(v * reciprocal) + zeroPoint;
    q = q < 0 ? 0 : q > levels ? levels : q;
    const d = (q - zeroPoint) * scale - v;
    error += d * d;
  }
  return error;
}

/** Shrink factors tried by the clipping search, the plain range first. */
const SHRINK = Float64Array.from({ length: 11 }, (_, i) => 1 - i * 0.03);
const NO_SHRINK = Float64Array.of(1);

export function blockParams(block: Float32Array, bits: number, symmetric: boolean, search: boolean): BlockParams {
  const levels = (1 << bits) - 1;
  const mid = 1 << (bits - 1);
  const factors = search ? SHRINK : NO_SHRINK;
  let best = { scale: 0, zeroPoint: mid };
  let bestError = Infinity;
  const consider = (scale: number, zeroPoint: number) => {
    const error = factors.length === 1 ? 0 : squaredError(block, scale, zeroPoint, levels);
    if (error < bestError) {
      bestError = error;
      best = { scale, zeroPoint };
    }
  };
  if (symmetric) {
    let extreme = 0;
    for (let i = 0; i < block.length; i++) if (Math.abs(block[i]) > Math.abs(extreme)) extreme = block[i];
    // The extreme maps to the lowest code (-2^(bits-1)), as onnxruntime's quantizer does; the search
    // also tries mapping it to the highest (2^(bits-1) - 1) and shrinking either.
    for (const f of factors) {
      consider(Math.fround((extreme * f) / -mid), mid);
      if (search) consider(Math.fround((-extreme * f) / (mid - 1)), mid);
    }
  } else {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < block.length; i++) {
      if (block[i] < lo) lo = block[i];
      if (block[i] > hi) hi = block[i];
    }
    for (const f of factors) {
      const scale = Math.fround(((hi - lo) * f) / levels);
      consider(scale, scale === 0 ? mid : Math.min(levels, Math.max(0, roundHalfEven((-lo * f) / scale))));
    }
  }
  return best;
}

/**
 * Quantizes a MatMul weight W [K, N] (row-major, as MatMul's second input) block-wise along K.
 * Symmetric blocks share the implicit zero point 2^(bits-1); asymmetric ones map [min(0, lo), max(0, hi)]
 * onto all codes and store their zero point. See BlockwiseOptions.clipSearch for the range search.
 */
export function quantizeBlockwise(weight: Float32Array, k: number, n: number, options: BlockwiseOptions): BlockwiseWeights {
  checkBlockwiseOptions(options);
  if (weight.length !== k * n) throw new RangeError(`weight holds ${weight.length} values, [${k}, ${n}] needs ${k * n}`);
  const { bits, blockSize, symmetric } = options;
  const search = options.clipSearch ?? true;
  const blocks = Math.ceil(k / blockSize);
  const blob = (blockSize * bits) / 8;
  const levels = (1 << bits) - 1;
  const packed = new Uint8Array(n * blocks * blob);
  const scales = new Float32Array(n * blocks);
  const zpBytesPerRow = Math.ceil((blocks * bits) / 8);
  const zeroPoints = symmetric ? null : new Uint8Array(n * zpBytesPerRow);
  const buffer = new Float32Array(blockSize);
  for (let col = 0; col < n; col++) {
    for (let blk = 0; blk < blocks; blk++) {
      const k0 = blk * blockSize;
      const k1 = Math.min(k, k0 + blockSize);
      const block = buffer.subarray(0, k1 - k0);
      for (let r = k0; r < k1; r++) block[r - k0] = weight[r * n + col];
      const { scale, zeroPoint } = blockParams(block, bits, symmetric, search);
      const reciprocal = scale === 0 ? 0 : 1 / scale;
      const blockIndex = col * blocks + blk;
      scales[blockIndex] = scale;
      const offset = blockIndex * blob;
      // Padding past K holds the zero point: it dequantizes to 0.
      for (let i = 0; i < blockSize; i++) putCode(packed, offset, i, bits, i < block.length ? codeOf(block[i], reciprocal, zeroPoint, levels) : zeroPoint);
      if (zeroPoints) putCode(zeroPoints, col * zpBytesPerRow, blk, bits, zeroPoint);
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
