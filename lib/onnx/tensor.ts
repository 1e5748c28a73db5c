// TensorProto <-> typed arrays. Raw little-endian bytes are viewed in place when aligned, copied only when not.
import { create, isFieldSet } from '@bufbuild/protobuf';
import {
  TensorProto_DataLocation as DataLocation, TensorProtoSchema, type TensorProto,
} from './gen/onnx_pb';
import {
  byteLengthOf, dtypeInfo, dtypeOfArray, typedArrayKind,
  type DTypeInfo, type DTypeName, type TensorData, type TypedArray, type TypedArrayConstructor,
} from './dtype';
import { ExternalDataError, ModelValidationError } from './errors';

/** A decoded tensor: element type, shape and elements. */
export interface Tensor {
  name: string;
  dtype: DTypeName;
  dims: number[];
  /** Typed array of the raw elements (packed bytes for 4- and 2-bit types), or strings. */
  data: TensorData;
}

/** Supplies the bytes of tensors whose data lives in an external file. */
export interface ExternalBytes {
  read(tensor: TensorProto): Uint8Array;
}

export function isExternal(tensor: TensorProto): boolean {
  return tensor.dataLocation === DataLocation.EXTERNAL;
}

/** Tensor dims as numbers; refuses negative or unsafe values rather than silently losing precision. */
export function tensorDims(tensor: TensorProto): number[] {
  return tensor.dims.map((d) => {
    if (d < 0n || d > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new ModelValidationError([`tensor "${tensor.name}" has dimension ${d}, outside 0..2^53-1`]);
    }
    return Number(d);
  });
}

export function elementCount(dims: readonly number[]): number {
  let count = 1;
  for (const d of dims) count *= d;
  return count;
}

/** Size in bytes the tensor's elements occupy as raw data; undefined for strings. */
export function expectedByteLength(tensor: TensorProto): number | undefined {
  const info = dtypeInfo(tensor.dataType);
  if (info.name === 'string') return undefined;
  return byteLengthOf(info.name, elementCount(tensorDims(tensor)));
}

function hasRawData(tensor: TensorProto): boolean {
  return isFieldSet(tensor, TensorProtoSchema.field.rawData) || tensor.rawData.length > 0;
}

/** A typed view over bytes when aligned, else an aligned copy. */
export function viewBytesAs(bytes: Uint8Array, ctor: TypedArrayConstructor, length: number): TypedArray {
  const size = length * ctor.BYTES_PER_ELEMENT;
  if (bytes.byteLength < size) throw new RangeError(`need ${size} bytes, have ${bytes.byteLength}`);
  if (bytes.byteOffset % ctor.BYTES_PER_ELEMENT === 0) return new ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, length);
  // Uint8Array's slice, not Buffer's: Buffer#slice is a view into a shared pool, not a copy.
  return new ctor(Uint8Array.prototype.slice.call(bytes, 0, size).buffer, 0, length);
}

/** The bytes behind a typed array, without copying. */
export function bytesOf(data: TypedArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function fromTypedFields(tensor: TensorProto, info: DTypeInfo): TypedArray {
  switch (info.name) {
    case 'float32':
    case 'complex64':
      return Float32Array.from(tensor.floatData);
    case 'float64':
    case 'complex128':
      return Float64Array.from(tensor.doubleData);
    case 'int64':
      return BigInt64Array.from(tensor.int64Data);
    case 'uint64':
      return BigUint64Array.from(tensor.uint64Data);
    case 'uint32':
      return Uint32Array.from(tensor.uint64Data, (v) => Number(v));
    default: {
      // Every other type travels one value (or one packed byte, for sub-byte types) per int32_data entry.
      return (info.array as Int32ArrayConstructor).from(tensor.int32Data) as TypedArray;
    }
  }
}

/** Raw little-endian bytes of a tensor's elements, wherever they are stored. */
export function tensorBytes(tensor: TensorProto, external?: ExternalBytes): Uint8Array {
  if (isExternal(tensor)) {
    if (!external) throw new ExternalDataError(`tensor "${tensor.name}" keeps its data in an external file, but the model was not loaded from a folder (pass baseDir)`);
    return external.read(tensor);
  }
  if (hasRawData(tensor)) return tensor.rawData;
  const data = tensorValues(tensor, external);
  if (Array.isArray(data)) throw new TypeError(`tensor "${tensor.name}" holds strings, which have no raw byte form`);
  return bytesOf(data);
}

/** Decode a tensor's elements into the typed array of its dtype (see dtype.ts), viewing raw bytes in place. */
export function tensorValues(tensor: TensorProto, external?: ExternalBytes): TensorData {
  const info = dtypeInfo(tensor.dataType);
  const count = elementCount(tensorDims(tensor));
  if (info.name === 'string') {
    const decoder = new TextDecoder();
    return tensor.stringData.map((s) => decoder.decode(s));
  }
  const ctor = info.array as TypedArrayConstructor;
  const expectedBytes = byteLengthOf(info.name, count);
  const length = info.bits < 8 ? expectedBytes : count * info.lanes;
  let data: TypedArray;
  if (isExternal(tensor) || hasRawData(tensor)) {
    const bytes = tensorBytes(tensor, external);
    if (bytes.byteLength !== expectedBytes) {
      throw new ModelValidationError([`tensor "${tensor.name}" has ${bytes.byteLength} bytes of data, its ${info.name} shape [${tensorDims(tensor)}] needs ${expectedBytes}`]);
    }
    data = viewBytesAs(bytes, ctor, length);
  } else {
    data = fromTypedFields(tensor, info);
    if (data.length !== length) {
      throw new ModelValidationError([`tensor "${tensor.name}" has ${data.length} values, its ${info.name} shape [${tensorDims(tensor)}] needs ${length}`]);
    }
  }
  return data;
}

export function decodeTensor(tensor: TensorProto, external?: ExternalBytes): Tensor {
  return { name: tensor.name, dtype: dtypeInfo(tensor.dataType).name, dims: tensorDims(tensor), data: tensorValues(tensor, external) };
}

export function checkDims(dims: readonly number[], what: string): void {
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`${what}: dimension ${d} is not a non-negative safe integer`);
  }
}

/**
 * A TensorProto whose raw_data views `data`'s bytes (no copy: later writes to `data` show through).
 * `dtype` defaults to the array's natural type; pass 'float16', 'bfloat16', 'bool', 'int4'... explicitly.
 */
export function makeTensor(name: string, data: TensorData, dims: readonly number[], dtype?: DTypeName | string): TensorProto {
  checkDims(dims, `tensor "${name}"`);
  const count = elementCount(dims);
  const tensor = create(TensorProtoSchema, { name, dims: dims.map((d) => BigInt(d)) });
  if (Array.isArray(data)) {
    if (dtype !== undefined && dtypeInfo(dtype).name !== 'string') throw new TypeError(`tensor "${name}": strings given for dtype ${dtype}`);
    if (data.length !== count) throw new RangeError(`tensor "${name}": ${data.length} strings for shape [${dims}]`);
    const encoder = new TextEncoder();
    tensor.dataType = dtypeInfo('string').dataType;
    tensor.stringData = data.map((s) => encoder.encode(s));
    return tensor;
  }
  const info = dtypeInfo(dtype ?? dtypeOfArray(data));
  if (info.name === 'string' || !info.array) throw new TypeError(`tensor "${name}": dtype string needs an array of strings`);
  const kind = typedArrayKind(data);
  if (kind !== info.array.name) throw new TypeError(`tensor "${name}": dtype ${info.name} is stored in a ${info.array.name}, got ${kind ?? typeof data}`);
  const needed = info.bits < 8 ? byteLengthOf(info.name, count) : count * info.lanes;
  if (data.length !== needed) throw new RangeError(`tensor "${name}": ${data.length} elements given, shape [${dims}] of ${info.name} needs ${needed}`);
  tensor.dataType = info.dataType;
  tensor.rawData = bytesOf(data);
  return tensor;
}
