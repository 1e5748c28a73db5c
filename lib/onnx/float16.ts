// float16 / bfloat16 <-> float32 conversions over whole arrays, rounding to nearest even like IEEE 754.
// Half values travel as raw bits in Uint16Array because Node 20 has no Float16Array.

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

// 0.5 as float32 bits: adding it lines a subnormal half's 10 mantissa bits up at the bottom of a float32.
const DENORM_MAGIC_BITS = 126 << 23;
const DENORM_MAGIC = 0.5;

function halfBitsFromFloatBits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  let abs = bits & 0x7fffffff;
  if (abs >= 0x47800000) {
    // 65536 and above overflow to infinity; NaN stays a (quiet) NaN.
    return sign | (abs > 0x7f800000 ? 0x7e00 : 0x7c00);
  }
  if (abs < 0x38800000) {
    // Subnormal or zero half: one float32 addition rounds to nearest even at the right bit.
    scratchU32[0] = abs;
    scratchF32[0] = scratchF32[0] + DENORM_MAGIC;
    return sign | (scratchU32[0] - DENORM_MAGIC_BITS);
  }
  const mantissaOdd = (abs >>> 13) & 1;
  abs = abs + ((15 - 127) << 23) + 0xfff + mantissaOdd;
  return sign | (abs >>> 13);
}

/** Convert float32 values to float16 bits, rounding to nearest even. */
export function float32ToFloat16(src: Float32Array | ArrayLike<number>, dst = new Uint16Array(src.length)): Uint16Array {
  if (dst.length < src.length) throw new RangeError('float32ToFloat16: destination is shorter than source');
  for (let i = 0; i < src.length; i++) {
    scratchF32[0] = src[i];
    dst[i] = halfBitsFromFloatBits(scratchU32[0]);
  }
  return dst;
}

/** Convert float16 bits to float32 values (exact). */
export function float16ToFloat32(src: Uint16Array | ArrayLike<number>, dst = new Float32Array(src.length)): Float32Array {
  if (dst.length < src.length) throw new RangeError('float16ToFloat32: destination is shorter than source');
  const out = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
  for (let i = 0; i < src.length; i++) {
    const h = src[i];
    const sign = (h & 0x8000) << 16;
    const exponent = (h >>> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) {
      // Zero or subnormal: value is mantissa * 2^-24, exact in float32.
      dst[i] = (sign ? -1 : 1) * mantissa * 5.960464477539063e-8;
    } else if (exponent === 31) {
      out[i] = (sign | 0x7f800000 | (mantissa << 13)) >>> 0;
    } else {
      out[i] = (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0;
    }
  }
  return dst;
}

/** Convert float32 values to bfloat16 bits, rounding to nearest even; NaN stays NaN. */
export function float32ToBfloat16(src: Float32Array | ArrayLike<number>, dst = new Uint16Array(src.length)): Uint16Array {
  if (dst.length < src.length) throw new RangeError('float32ToBfloat16: destination is shorter than source');
  for (let i = 0; i < src.length; i++) {
    scratchF32[0] = src[i];
    const bits = scratchU32[0];
    if ((bits & 0x7fffffff) > 0x7f800000) {
      dst[i] = (bits >>> 16) | 0x40;
    } else {
      dst[i] = (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16;
    }
  }
  return dst;
}

/** Convert bfloat16 bits to float32 values (exact). */
export function bfloat16ToFloat32(src: Uint16Array | ArrayLike<number>, dst = new Float32Array(src.length)): Float32Array {
  if (dst.length < src.length) throw new RangeError('bfloat16ToFloat32: destination is shorter than source');
  const out = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
  for (let i = 0; i < src.length; i++) out[i] = (src[i] << 16) >>> 0;
  return dst;
}
