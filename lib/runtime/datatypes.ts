// KServe v2 datatype names <-> the engine's tensor types, and byte sizes per element.
import type { TensorType } from '../engine/tensor';

export type KserveDatatype =
  | 'BOOL' | 'UINT8' | 'UINT16' | 'UINT32' | 'UINT64' | 'INT8' | 'INT16' | 'INT32' | 'INT64'
  | 'FP16' | 'BF16' | 'FP32' | 'FP64' | 'BYTES';

const toTensorType: Record<KserveDatatype, TensorType> = {
  BOOL: 'bool', UINT8: 'uint8', UINT16: 'uint16', UINT32: 'uint32', UINT64: 'uint64',
  INT8: 'int8', INT16: 'int16', INT32: 'int32', INT64: 'int64',
  FP16: 'float16', BF16: 'bfloat16', FP32: 'float32', FP64: 'float64', BYTES: 'string',
};

const toDatatype = Object.fromEntries(Object.entries(toTensorType).map(([k, v]) => [v, k])) as Record<TensorType, KserveDatatype>;

export const KSERVE_DATATYPES = Object.keys(toTensorType) as KserveDatatype[];

export function isKserveDatatype(name: string): name is KserveDatatype {
  return Object.prototype.hasOwnProperty.call(toTensorType, name);
}

export function tensorTypeOf(datatype: KserveDatatype): TensorType {
  return toTensorType[datatype];
}

/** The KServe name of an engine type; engine-only types (non-tensor values) keep their own name. */
export function datatypeOf(type: TensorType | string): string {
  return (toDatatype as Record<string, string>)[type] ?? type;
}

/** Bytes per element in raw (binary extension) form; undefined for variable-length strings. */
export function elementByteSize(type: TensorType): number | undefined {
  switch (type) {
    case 'bool': case 'uint8': case 'int8': return 1;
    case 'uint16': case 'int16': case 'float16': case 'bfloat16': return 2;
    case 'uint32': case 'int32': case 'float32': return 4;
    case 'uint64': case 'int64': case 'float64': return 8;
    case 'string': return undefined;
  }
}
