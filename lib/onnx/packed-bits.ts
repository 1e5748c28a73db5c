// Sub-byte integer packing used by INT4/UINT4 (two per byte) and INT2/UINT2 (four per byte):
// the first element sits in the least significant bits, as the ONNX spec requires.

function checkBits(bits: number): void {
  if (bits !== 4 && bits !== 2) throw new RangeError(`packed element width must be 4 or 2 bits, got ${bits}`);
}

/** Unpack `count` elements of `bits` width; signed values are sign-extended. */
export function unpackBits(packed: Uint8Array, count: number, bits: 4 | 2, signed: boolean): Int8Array | Uint8Array {
  checkBits(bits);
  const perByte = 8 / bits;
  if (packed.length < Math.ceil(count / perByte)) {
    throw new RangeError(`packed data holds ${packed.length * perByte} elements, ${count} requested`);
  }
  const mask = (1 << bits) - 1;
  const signBit = 1 << (bits - 1);
  const out = signed ? new Int8Array(count) : new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const v = (packed[Math.floor(i / perByte)] >>> ((i % perByte) * bits)) & mask;
    out[i] = signed && v & signBit ? v - (1 << bits) : v;
  }
  return out;
}

/** Pack integers into `bits`-wide fields; values outside the type's range are refused. */
export function packBits(values: ArrayLike<number>, bits: 4 | 2, signed: boolean): Uint8Array {
  checkBits(bits);
  const perByte = 8 / bits;
  const min = signed ? -(1 << (bits - 1)) : 0;
  const max = signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
  const mask = (1 << bits) - 1;
  const out = new Uint8Array(Math.ceil(values.length / perByte));
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new RangeError(`value ${v} at index ${i} does not fit a ${signed ? 'signed' : 'unsigned'} ${bits}-bit integer`);
    }
    out[Math.floor(i / perByte)] |= (v & mask) << ((i % perByte) * bits);
  }
  return out;
}

export const unpackInt4 = (packed: Uint8Array, count: number): Int8Array => unpackBits(packed, count, 4, true) as Int8Array;
export const unpackUint4 = (packed: Uint8Array, count: number): Uint8Array => unpackBits(packed, count, 4, false) as Uint8Array;
export const packInt4 = (values: ArrayLike<number>): Uint8Array => packBits(values, 4, true);
export const packUint4 = (values: ArrayLike<number>): Uint8Array => packBits(values, 4, false);
