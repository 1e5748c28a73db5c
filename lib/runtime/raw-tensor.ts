// Tensors as raw little-endian bytes, the layout KServe's binary extension, its gRPC raw contents and
// our Redis payloads share: numeric elements back to back; BYTES (string) elements each a 4-byte
// little-endian length, then that many UTF-8 bytes.
import type { HostTensor, TensorData, TensorType } from '../engine/tensor';
import { elementByteSize } from './datatypes';
import { InvalidRequestError } from './errors';

export const TYPED_ARRAYS: Record<Exclude<TensorType, 'string'>, { new (buffer: ArrayBuffer, byteOffset?: number, length?: number): Exclude<TensorData, string[]> }> = {
  float32: Float32Array, float64: Float64Array, float16: Uint16Array, bfloat16: Uint16Array,
  int8: Int8Array, uint8: Uint8Array, bool: Uint8Array, int16: Int16Array, uint16: Uint16Array,
  int32: Int32Array, uint32: Uint32Array, int64: BigInt64Array, uint64: BigUint64Array,
};

/** A tensor's raw bytes: the typed array's own memory (no copy); BYTES length-prefixed. */
export function rawTensorBytes(tensor: HostTensor): Buffer {
  const { data } = tensor;
  if (!Array.isArray(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.concat(data.flatMap((s) => {
    const bytes = Buffer.from(s, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32LE(bytes.length);
    return [length, bytes];
  }));
}

/** How a request names where its raw bytes came from, for its error messages. */
export interface RawSource {
  /** "binary data holds 3 elements" */
  holder: string;
  /** "binary_data_size is 31 bytes" */
  size: string;
  /** after "truncated BYTES element" */
  truncatedSuffix: string;
}

/** Raw bytes of a request's input -> tensor data (a copy: aligned, not tied to the request's buffer). */
export function rawTensorData(type: TensorType, count: number, bytes: Buffer, what: string, source: RawSource): TensorData {
  const size = elementByteSize(type);
  if (size === undefined) {
    const strings: string[] = [];
    let offset = 0;
    while (offset < bytes.length) {
      if (offset + 4 > bytes.length) throw new InvalidRequestError(`${what}: truncated BYTES element${source.truncatedSuffix}`);
      const length = bytes.readUInt32LE(offset);
      offset += 4;
      if (offset + length > bytes.length) throw new InvalidRequestError(`${what}: truncated BYTES element${source.truncatedSuffix}`);
      strings.push(bytes.toString('utf8', offset, offset + length));
      offset += length;
    }
    if (strings.length !== count) throw new InvalidRequestError(`${what}: ${source.holder} holds ${strings.length} elements, its shape needs ${count}`);
    return strings;
  }
  if (bytes.length !== count * size) {
    throw new InvalidRequestError(`${what}: ${source.size} is ${bytes.length} bytes, its shape and datatype need ${count * size}`);
  }
  const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
  const data = new TYPED_ARRAYS[type as Exclude<TensorType, 'string'>](copy);
  if (type === 'bool' && (data as Uint8Array).some((v) => v > 1)) throw new InvalidRequestError(`${what}: BOOL bytes must be 0 or 1`);
  return data;
}
