// A plain host tensor: what engines take and return, independent of any runtime's types.

export type TensorType =
  | 'float32' | 'float64' | 'float16' | 'bfloat16'
  | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64'
  | 'bool' | 'string';

export type TensorData =
  | Float32Array | Float64Array | Uint16Array | Int8Array | Uint8Array | Int16Array
  | Int32Array | Uint32Array | BigInt64Array | BigUint64Array | string[];

export interface HostTensor {
  type: TensorType;
  dims: readonly number[];
  data: TensorData;
}

export type Feeds = Record<string, HostTensor>;

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Any numeric tensor as float64 values, for metrics (int64 beyond 2^53 loses precision). */
export function toFloat64(tensor: HostTensor): Float64Array {
  const { data } = tensor;
  if (Array.isArray(data)) throw new Error('string tensors have no numeric values');
  if (tensor.type === 'float16' || tensor.type === 'bfloat16') {
    const bits = data as Uint16Array;
    const out = new Float64Array(bits.length);
    const decode = tensor.type === 'float16' ? float16BitsToNumber : bfloat16BitsToNumber;
    for (let i = 0; i < bits.length; i++) out[i] = decode(bits[i]);
    return out;
  }
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    const out = new Float64Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
    return out;
  }
  return Float64Array.from(data as ArrayLike<number>);
}

export function float16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

const bfloat16Scratch = new DataView(new ArrayBuffer(4));

export function bfloat16BitsToNumber(b: number): number {
  bfloat16Scratch.setUint32(0, b << 16);
  return bfloat16Scratch.getFloat32(0);
}
