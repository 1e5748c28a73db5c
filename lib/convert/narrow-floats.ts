// float32 arrays -> float16 / bfloat16 bits, clamping values that would overflow to infinity and
// counting what was clamped and what underflowed to zero.
import { float32ToBfloat16, float32ToFloat16 } from '../onnx/float16';

export type LowFloat = 'float16' | 'bfloat16';

export interface NarrowResult {
  bits: Uint16Array;
  /** Finite values beyond the target's range, stored as its largest finite value. */
  clamped: number;
  /** Non-zero values too small for the target, stored as (signed) zero. */
  underflowed: number;
}

const FLOAT16_MAX = 65504;
// Finite float32 values at or beyond this round to infinity in float16 (65504 + half a step).
const FLOAT16_OVERFLOW = 65520;
// float32 bits of the first value that rounds past bfloat16's largest finite value 0x7f7f.
const BFLOAT16_OVERFLOW_BITS = 0x7f7f8000;
const BFLOAT16_MAX_BITS = 0x7f7f;

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

function narrowToFloat16(src: Float32Array): NarrowResult {
  let clamped = 0;
  let source = src;
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (Math.abs(v) >= FLOAT16_OVERFLOW && Number.isFinite(v)) {
      if (source === src) source = Float32Array.from(src);
      source[i] = v > 0 ? FLOAT16_MAX : -FLOAT16_MAX;
      clamped++;
    }
  }
  const bits = float32ToFloat16(source);
  return { bits, clamped, underflowed: countUnderflow(src, bits) };
}

function narrowToBfloat16(src: Float32Array): NarrowResult {
  const bits = float32ToBfloat16(src);
  let clamped = 0;
  for (let i = 0; i < src.length; i++) {
    scratch[0] = src[i];
    const abs = scratchBits[0] & 0x7fffffff;
    if (abs >= BFLOAT16_OVERFLOW_BITS && abs < 0x7f800000) {
      bits[i] = (bits[i] & 0x8000) | BFLOAT16_MAX_BITS;
      clamped++;
    }
  }
  return { bits, clamped, underflowed: countUnderflow(src, bits) };
}

function countUnderflow(src: Float32Array, bits: Uint16Array): number {
  let count = 0;
  for (let i = 0; i < src.length; i++) if ((bits[i] & 0x7fff) === 0 && src[i] !== 0) count++;
  return count;
}

export function narrowFloats(src: Float32Array, dtype: LowFloat): NarrowResult {
  return dtype === 'float16' ? narrowToFloat16(src) : narrowToBfloat16(src);
}
