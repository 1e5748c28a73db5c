// ONNX tensor element types: enum value <-> name <-> bit width <-> typed array <-> onnxruntime-node type.
import { TensorProto_DataType as DataType } from './gen/onnx_pb';

export { DataType };

/** Short lower-case names, matching onnxruntime-node where it has the type. */
export type DTypeName =
  | 'float32' | 'uint8' | 'int8' | 'uint16' | 'int16' | 'int32' | 'int64' | 'string' | 'bool'
  | 'float16' | 'float64' | 'uint32' | 'uint64' | 'complex64' | 'complex128' | 'bfloat16'
  | 'float8e4m3fn' | 'float8e4m3fnuz' | 'float8e5m2' | 'float8e5m2fnuz'
  | 'uint4' | 'int4' | 'float4e2m1' | 'float8e8m0' | 'uint2' | 'int2';

export type TypedArray =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array
  | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

/** What a tensor's elements decode to: a typed array, or strings for STRING tensors. */
export type TensorData = TypedArray | string[];

export type TypedArrayConstructor =
  | Float32ArrayConstructor | Float64ArrayConstructor | Int8ArrayConstructor | Uint8ArrayConstructor
  | Int16ArrayConstructor | Uint16ArrayConstructor | Int32ArrayConstructor | Uint32ArrayConstructor
  | BigInt64ArrayConstructor | BigUint64ArrayConstructor;

export interface DTypeInfo {
  readonly name: DTypeName;
  readonly dataType: DataType;
  /** Bits per tensor element (4 and 2 for packed types, 128 for complex128, 0 for string). */
  readonly bits: number;
  /** Typed array holding the raw little-endian elements; packed sub-byte types use Uint8Array. */
  readonly array: TypedArrayConstructor | undefined;
  /** Elements of `array` per tensor element (2 for complex types). */
  readonly lanes: number;
  /** onnxruntime-node Tensor type, when onnxruntime-node can feed or fetch it. */
  readonly ortType: string | undefined;
}

function info(name: DTypeName, dataType: DataType, bits: number, array: TypedArrayConstructor | undefined,
  ortType: string | undefined, lanes = 1): DTypeInfo {
  return { name, dataType, bits, array, lanes, ortType };
}

const TABLE: DTypeInfo[] = [
  info('float32', DataType.FLOAT, 32, Float32Array, 'float32'),
  info('uint8', DataType.UINT8, 8, Uint8Array, 'uint8'),
  info('int8', DataType.INT8, 8, Int8Array, 'int8'),
  info('uint16', DataType.UINT16, 16, Uint16Array, 'uint16'),
  info('int16', DataType.INT16, 16, Int16Array, 'int16'),
  info('int32', DataType.INT32, 32, Int32Array, 'int32'),
  info('int64', DataType.INT64, 64, BigInt64Array, 'int64'),
  info('string', DataType.STRING, 0, undefined, 'string'),
  info('bool', DataType.BOOL, 8, Uint8Array, 'bool'),
  info('float16', DataType.FLOAT16, 16, Uint16Array, 'float16'),
  info('float64', DataType.DOUBLE, 64, Float64Array, 'float64'),
  info('uint32', DataType.UINT32, 32, Uint32Array, 'uint32'),
  info('uint64', DataType.UINT64, 64, BigUint64Array, 'uint64'),
  info('complex64', DataType.COMPLEX64, 64, Float32Array, undefined, 2),
  info('complex128', DataType.COMPLEX128, 128, Float64Array, undefined, 2),
  info('bfloat16', DataType.BFLOAT16, 16, Uint16Array, undefined),
  info('float8e4m3fn', DataType.FLOAT8E4M3FN, 8, Uint8Array, undefined),
  info('float8e4m3fnuz', DataType.FLOAT8E4M3FNUZ, 8, Uint8Array, undefined),
  info('float8e5m2', DataType.FLOAT8E5M2, 8, Uint8Array, undefined),
  info('float8e5m2fnuz', DataType.FLOAT8E5M2FNUZ, 8, Uint8Array, undefined),
  info('uint4', DataType.UINT4, 4, Uint8Array, 'uint4'),
  info('int4', DataType.INT4, 4, Uint8Array, 'int4'),
  info('float4e2m1', DataType.FLOAT4E2M1, 4, Uint8Array, undefined),
  info('float8e8m0', DataType.FLOAT8E8M0, 8, Uint8Array, undefined),
  info('uint2', DataType.UINT2, 2, Uint8Array, undefined),
  info('int2', DataType.INT2, 2, Uint8Array, undefined),
];

const BY_NAME = new Map<string, DTypeInfo>(TABLE.map((t) => [t.name, t]));
const BY_ENUM = new Map<number, DTypeInfo>(TABLE.map((t) => [t.dataType, t]));
// Common aliases people type (numpy / torch spellings).
const ALIASES: Record<string, DTypeName> = {
  float: 'float32', double: 'float64', half: 'float16', bf16: 'bfloat16', fp16: 'float16', fp32: 'float32',
  long: 'int64', int: 'int32', boolean: 'bool',
};

/** Everything known about an element type, from its enum value, name, or alias. Throws on unknown types. */
export function dtypeInfo(type: DataType | DTypeName | number | string): DTypeInfo {
  const found = typeof type === 'number'
    ? BY_ENUM.get(type)
    : BY_NAME.get(type.toLowerCase()) ?? BY_NAME.get(ALIASES[type.toLowerCase()] ?? '');
  if (!found) throw new RangeError(`unknown ONNX element type ${JSON.stringify(type)}`);
  return found;
}

export function isKnownDataType(dataType: number): boolean {
  return BY_ENUM.has(dataType);
}

export function dtypeName(type: DataType | DTypeName | number | string): DTypeName {
  return dtypeInfo(type).name;
}

export function dataTypeOf(type: DataType | DTypeName | number | string): DataType {
  return dtypeInfo(type).dataType;
}

/** Bytes needed for `count` elements (packed sub-byte types round up to whole bytes). */
export function byteLengthOf(type: DataType | DTypeName | number | string, count: number): number {
  return Math.ceil((count * dtypeInfo(type).bits) / 8);
}

/** The dtype a typed array most plausibly holds (Uint16Array -> uint16; pass float16/bfloat16 explicitly). */
export function dtypeOfArray(data: TypedArray): DTypeName {
  switch (Object.prototype.toString.call(data)) {
    case '[object Float32Array]': return 'float32';
    case '[object Float64Array]': return 'float64';
    case '[object Int8Array]': return 'int8';
    case '[object Uint8Array]': return 'uint8';
    case '[object Int16Array]': return 'int16';
    case '[object Uint16Array]': return 'uint16';
    case '[object Int32Array]': return 'int32';
    case '[object Uint32Array]': return 'uint32';
    case '[object BigInt64Array]': return 'int64';
    case '[object BigUint64Array]': return 'uint64';
    default: throw new TypeError(`cannot infer an ONNX element type from ${Object.prototype.toString.call(data)}`);
  }
}

/** Typed-array kind name ("Float32Array"), compared by tag because jest and vm contexts break instanceof. */
export function typedArrayKind(data: unknown): string | undefined {
  if (!ArrayBuffer.isView(data)) return undefined;
  const kind = Object.prototype.toString.call(data).slice(8, -1);
  return kind === 'DataView' ? undefined : kind;
}
