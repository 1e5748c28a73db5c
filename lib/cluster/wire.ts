// Tensors as they travel through Redis: raw little-endian bytes behind a small JSON header, never
// JSON number arrays. One payload holds a list of items (a request's feeds, a chunk's samples, or
// their outputs); an item is a set of named tensors or the error one sample failed with.
//   [u32 LE header length][header JSON][tensor bytes, in header order]
import type { HostTensor, TensorType } from '../engine/tensor';
import { elementCount } from '../engine/tensor';
import { elementByteSize } from '../runtime/datatypes';
import { InvalidRequestError } from '../runtime/errors';
import { rawTensorBytes, TYPED_ARRAYS } from '../runtime/raw-tensor';

export type WireItem = { tensors: Record<string, HostTensor> } | { error: { status: number; message: string } };

interface TensorHeader {
  name: string;
  type: TensorType;
  dims: number[];
  bytes: number;
}

type HeaderItem = { tensors: TensorHeader[] } | { error: { status: number; message: string } };

export function encodeItems(items: readonly WireItem[]): Buffer {
  const parts: Buffer[] = [];
  const header: HeaderItem[] = items.map((item) => {
    if ('error' in item) return { error: item.error };
    return {
      tensors: Object.entries(item.tensors).map(([name, tensor]) => {
        const bytes = rawTensorBytes(tensor);
        parts.push(bytes);
        return { name, type: tensor.type, dims: [...tensor.dims], bytes: bytes.length };
      }),
    };
  });
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  return Buffer.concat([length, json, ...parts]);
}

function malformed(reason: string): never {
  throw new InvalidRequestError(`malformed tensor payload: ${reason}`);
}

function decodeStrings(bytes: Buffer, count: number, what: string): string[] {
  const out: string[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (offset + 4 > bytes.length) malformed(`${what}: truncated string element`);
    const length = bytes.readUInt32LE(offset);
    offset += 4;
    if (offset + length > bytes.length) malformed(`${what}: truncated string element`);
    out.push(bytes.toString('utf8', offset, offset + length));
    offset += length;
  }
  if (out.length !== count) malformed(`${what}: ${out.length} strings, its shape needs ${count}`);
  return out;
}

function decodeTensor(t: TensorHeader, bytes: Buffer): HostTensor {
  const what = `tensor "${t.name}"`;
  const count = elementCount(t.dims);
  if (t.type === 'string') return { type: t.type, dims: t.dims, data: decodeStrings(bytes, count, what) };
  if (bytes.length !== count * elementByteSize(t.type)!) malformed(`${what}: ${bytes.length} bytes, its shape and type need ${count * elementByteSize(t.type)!}`);
  // A copy: aligned for the typed array and independent of the payload buffer.
  const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
  return { type: t.type, dims: t.dims, data: new TYPED_ARRAYS[t.type](copy) };
}

function checkTensorHeader(t: unknown): TensorHeader {
  const h = t as Partial<TensorHeader> | null;
  if (typeof h !== 'object' || h === null || typeof h.name !== 'string' || h.name === '') malformed('a tensor without a name');
  if (typeof h.type !== 'string' || !(h.type === 'string' || h.type in TYPED_ARRAYS)) malformed(`tensor "${h.name}": unknown type ${JSON.stringify(h.type)}`);
  if (!Array.isArray(h.dims) || !h.dims.every((d) => Number.isSafeInteger(d) && d >= 0) || !Number.isSafeInteger(elementCount(h.dims))) {
    malformed(`tensor "${h.name}": dims must be non-negative integers`);
  }
  if (!Number.isSafeInteger(h.bytes) || (h.bytes as number) < 0) malformed(`tensor "${h.name}": bad byte count`);
  return h as TensorHeader;
}

export function decodeItems(payload: Buffer): WireItem[] {
  if (payload.length < 4) malformed('shorter than its header');
  const headerLength = payload.readUInt32LE(0);
  if (4 + headerLength > payload.length) malformed('header runs past the end');
  let header: unknown;
  try {
    header = JSON.parse(payload.toString('utf8', 4, 4 + headerLength));
  } catch (err) {
    malformed(`header is not JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(header)) malformed('header is not a list of items');
  let offset = 4 + headerLength;
  const items = header.map((item: unknown): WireItem => {
    const h = item as { tensors?: unknown; error?: { status?: unknown; message?: unknown } } | null;
    if (h && typeof h.error === 'object' && h.error !== null) {
      if (!Number.isInteger(h.error.status) || typeof h.error.message !== 'string') malformed('an error item without status and message');
      return { error: { status: h.error.status as number, message: h.error.message as string } };
    }
    if (!h || !Array.isArray(h.tensors)) malformed('an item with neither tensors nor an error');
    // A Map, then own properties: a name such as "__proto__" stays a plain key.
    const tensors = new Map<string, HostTensor>();
    for (const raw of h.tensors) {
      const t = checkTensorHeader(raw);
      if (tensors.has(t.name)) malformed(`tensor "${t.name}" appears twice in one item`);
      if (offset + t.bytes > payload.length) malformed(`tensor "${t.name}" runs past the end`);
      tensors.set(t.name, decodeTensor(t, payload.subarray(offset, offset + t.bytes)));
      offset += t.bytes;
    }
    return { tensors: Object.fromEntries(tensors) };
  });
  if (offset !== payload.length) malformed(`${payload.length - offset} bytes after the last tensor`);
  return items;
}
