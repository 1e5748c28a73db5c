// A plain host tensor: what engines take and return, independent of any runtime's types.
import { bfloat16ToFloat32, float16ToFloat32 } from '../onnx/float16';

export { elementCount } from '../onnx/tensor';

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

/** Any numeric tensor as float64 values, for metrics (int64 beyond 2^53 loses precision). */
export function toFloat64(tensor: HostTensor): Float64Array {
  const { data } = tensor;
  if (Array.isArray(data)) throw new Error('string tensors have no numeric values');
  if (tensor.type === 'float16') return Float64Array.from(float16ToFloat32(data as Uint16Array));
  if (tensor.type === 'bfloat16') return Float64Array.from(bfloat16ToFloat32(data as Uint16Array));
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    const out = new Float64Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
    return out;
  }
  return Float64Array.from(data as ArrayLike<number>);
}
