// GPTQ (Frantar et al., 2022) for a MatMul weight W [K, N], written in the MatMulNBits block layout
// of quantizeBlockwise. With H = 2XᵀX over the calibration inputs X [rows, K] of the layer, it quantizes
// W one input row k at a time and spreads each row's rounding error over the rows not yet quantized,
// weighted by the upper Cholesky factor of H⁻¹, so the layer's output error XΔ — not the weight error
// Δ — is what is kept small. Blocks along K (MatMulNBits' block_size) get their scale (and zero point)
// when their first row is reached, from the weights as updated so far. With actOrder, rows are taken
// in order of decreasing H diagonal (most active inputs first) and block parameters are fixed up front
// from the original weights (MatMulNBits blocks must stay contiguous in K).
import { blockParams, checkBlockwiseOptions, codeOf, putCode, type BlockParams, type BlockwiseOptions, type BlockwiseWeights } from '../blockwise';
import { inverseFromCholesky, cholesky, upperCholesky } from './linalg';

export interface GptqOptions extends BlockwiseOptions {
  /** Take rows by decreasing H diagonal (default false). */
  actOrder?: boolean;
  /** Added to H's diagonal, as a fraction of its mean (default 0.01, GPTQ's percdamp). */
  damp?: number;
}

/** H = 2XᵀX / rows over every input row a layer saw, accumulated sample by sample. */
export class HessianAccumulator {
  readonly sum: Float64Array;
  rows = 0;

  constructor(readonly k: number) {
    this.sum = new Float64Array(k * k);
  }

  /** Adds the rows of `x` (any shape whose last axis is K). */
  add(x: Float32Array): void {
    const k = this.k;
    if (x.length % k !== 0) throw new RangeError(`activation of ${x.length} values is not a whole number of rows of ${k}`);
    const rows = x.length / k;
    // Columns made contiguous, so each entry of XᵀX is one dot product kept in a register.
    const cols = new Float64Array(x.length);
    for (let r = 0; r < rows; r++) for (let i = 0; i < k; i++) cols[i * rows + r] = x[r * k + i];
    const h = this.sum;
    for (let i = 0; i < k; i++) {
      const ci = i * rows;
      for (let j = 0; j <= i; j++) {
        const cj = j * rows;
        let s0 = 0, s1 = 0;
        let r = 0;
        for (; r + 1 < rows; r += 2) {
          s0 += cols[ci + r] * cols[cj + r];
          s1 += cols[ci + r + 1] * cols[cj + r + 1];
        }
        if (r < rows) s0 += cols[ci + r] * cols[cj + r];
        h[i * k + j] += s0 + s1;
      }
    }
    this.rows += rows;
  }

  /** The symmetric H = 2XᵀX / rows. */
  hessian(): Float64Array {
    const k = this.k;
    const scale = this.rows > 0 ? 2 / this.rows : 0;
    const h = new Float64Array(k * k);
    for (let i = 0; i < k; i++) {
      for (let j = 0; j <= i; j++) {
        const v = this.sum[i * k + j] * scale;
        h[i * k + j] = v;
        h[j * k + i] = v;
      }
    }
    return h;
  }
}

function dampedInverseFactor(h: Float64Array, k: number, damp: number, dead: boolean[]): Float64Array {
  const a = Float64Array.from(h);
  let mean = 0;
  for (let i = 0; i < k; i++) mean += a[i * k + i];
  mean /= k;
  const add = damp * (mean > 0 ? mean : 1);
  for (let i = 0; i < k; i++) {
    if (dead[i]) a[i * k + i] = 1;
    a[i * k + i] += add;
  }
  return upperCholesky(inverseFromCholesky(cholesky(a, k), k), k);
}

/** Quantizes W [K, N] with GPTQ against H [K, K]; returns MatMulNBits blocks, as quantizeBlockwise does. */
export function quantizeGptq(weight: Float32Array, k: number, n: number, hessian: Float64Array, options: GptqOptions): BlockwiseWeights {
  checkBlockwiseOptions(options);
  if (weight.length !== k * n) throw new RangeError(`weight holds ${weight.length} values, [${k}, ${n}] needs ${k * n}`);
  if (hessian.length !== k * k) throw new RangeError(`hessian holds ${hessian.length} values, [${k}, ${k}] needs ${k * k}`);
  const { bits, blockSize, symmetric } = options;
  const search = options.clipSearch ?? true;
  const levels = (1 << bits) - 1;
  const blocks = Math.ceil(k / blockSize);
  const dead = Array.from({ length: k }, (_, i) => hessian[i * k + i] === 0);
  const order = Array.from({ length: k }, (_, i) => i);
  if (options.actOrder) order.sort((a, b) => hessian[b * k + b] - hessian[a * k + a] || a - b);
  // Working copy in processing order: row p is original row order[p]; H permuted the same way.
  const w = new Float64Array(k * n);
  for (let p = 0; p < k; p++) {
    const src = order[p] * n;
    if (!dead[order[p]]) for (let c = 0; c < n; c++) w[p * n + c] = weight[src + c];
  }
  const hp = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) hp[i * k + j] = hessian[order[i] * k + order[j]];
  const u = dampedInverseFactor(hp, k, options.damp ?? 0.01, order.map((o) => dead[o]));

  const params: BlockParams[] = new Array(n * blocks);
  const column = new Float32Array(blockSize);
  const setParams = (blk: number, rowOf: (kk: number) => number) => {
    const k0 = blk * blockSize;
    const k1 = Math.min(k, k0 + blockSize);
    const block = column.subarray(0, k1 - k0);
    for (let c = 0; c < n; c++) {
      for (let kk = k0; kk < k1; kk++) block[kk - k0] = rowOf(kk) < 0 ? weight[kk * n + c] : w[rowOf(kk) * n + c];
      params[c * blocks + blk] = blockParams(block, bits, symmetric, search);
    }
  };
  if (options.actOrder) for (let b = 0; b < blocks; b++) setParams(b, () => -1);

  const codes = new Uint8Array(k * n);
  const err = new Float64Array(n);
  for (let p = 0; p < k; p++) {
    const row = order[p];
    const blk = Math.floor(row / blockSize);
    // In order, processing row p is original row p: a block's rows are w's rows k0..k1 as updated so far.
    if (!options.actOrder && row % blockSize === 0) setParams(blk, (kk) => kk);
    const d = u[p * k + p];
    for (let c = 0; c < n; c++) {
      const { scale, zeroPoint } = params[c * blocks + blk];
      const v = w[p * n + c];
      const q = codeOf(v, scale === 0 ? 0 : 1 / scale, zeroPoint, levels);
      codes[row * n + c] = q;
      err[c] = (v - (q - zeroPoint) * scale) / d;
    }
    for (let j = p + 1; j < k; j++) {
      const f = u[p * k + j];
      if (f === 0) continue;
      const rj = j * n;
      for (let c = 0; c < n; c++) w[rj + c] -= err[c] * f;
    }
  }
  return packBlocks(codes, params, k, n, blocks, options);
}

function packBlocks(codes: Uint8Array, params: BlockParams[], k: number, n: number, blocks: number, o: BlockwiseOptions): BlockwiseWeights {
  const { bits, blockSize, symmetric } = o;
  const blob = (blockSize * bits) / 8;
  const packed = new Uint8Array(n * blocks * blob);
  const scales = new Float32Array(n * blocks);
  const zpBytesPerRow = Math.ceil((blocks * bits) / 8);
  const zeroPoints = symmetric ? null : new Uint8Array(n * zpBytesPerRow);
  for (let c = 0; c < n; c++) {
    for (let blk = 0; blk < blocks; blk++) {
      const index = c * blocks + blk;
      const { scale, zeroPoint } = params[index];
      scales[index] = scale;
      for (let i = 0; i < blockSize; i++) {
        const kk = blk * blockSize + i;
        putCode(packed, index * blob, i, bits, kk < k ? codes[kk * n + c] : zeroPoint);
      }
      if (zeroPoints) putCode(zeroPoints, c * zpBytesPerRow, blk, bits, zeroPoint);
    }
  }
  return { k, n, blocks, packed, scales, zeroPoints };
}

/** Mean squared weight error and mean squared output error (ΔᵀXᵀXΔ per output value) of a dequantized W. */
export function reconstructionError(weight: Float32Array, dequantized: Float32Array, k: number, n: number, hessian: Float64Array): { weight: number; output: number } {
  const delta = new Float64Array(k * n);
  let weightError = 0;
  for (let i = 0; i < delta.length; i++) {
    delta[i] = weight[i] - dequantized[i];
    weightError += delta[i] * delta[i];
  }
  // Σ_c Δ_cᵀ (H/2) Δ_c / N: H/2 = XᵀX / rows, so this is the mean squared error of XΔ. Summed as
  // Σ_i H_ii |Δ_i|² + 2 Σ_{j<i} H_ij Δ_i·Δ_j over rows Δ_i of Δ, half the work of the full product.
  let output = 0;
  for (let i = 0; i < k; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const h = hessian[i * k + j];
      if (h === 0) continue;
      const rj = j * n;
      let dot = 0;
      for (let c = 0; c < n; c++) dot += delta[ri + c] * delta[rj + c];
      output += (i === j ? 1 : 2) * h * dot;
    }
  }
  return { weight: weightError / delta.length, output: output / 2 / n };
}
