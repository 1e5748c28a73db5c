// The safetensors layout: 8-byte little-endian header length N, N bytes of JSON header
// ({"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}), then the data
// buffer that the offsets index. The header is checked strictly: known dtypes, sizes that match shapes,
// and offsets that tile the whole buffer with no gaps, overlaps or bytes beyond it.
import type { DTypeName } from '../onnx/dtype';
import { byteLengthOf } from '../onnx/dtype';

export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

/** Same cap as the reference implementation: a larger header is refused before it is read. */
export const MAX_HEADER_BYTES = 100_000_000;
export const METADATA_KEY = '__metadata__';

const DTYPES: Record<string, DTypeName> = {
  BOOL: 'bool', U8: 'uint8', I8: 'int8', U16: 'uint16', I16: 'int16', F16: 'float16', BF16: 'bfloat16',
  U32: 'uint32', I32: 'int32', F32: 'float32', F64: 'float64', U64: 'uint64', I64: 'int64',
  F8_E4M3: 'float8e4m3fn', F8_E5M2: 'float8e5m2', F8_E8M0: 'float8e8m0',
};
const CODES = new Map<DTypeName, string>(Object.entries(DTYPES).map(([code, name]) => [name, code]));

/** The safetensors dtype code for an ONNX element type, or undefined when safetensors has none. */
export function safetensorsDtype(dtype: DTypeName): string | undefined {
  return CODES.get(dtype);
}

export interface SafetensorsEntry {
  name: string;
  dtype: DTypeName;
  shape: number[];
  /** Byte range within the data buffer. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  metadata: Record<string, string>;
  /** Entries in data-buffer order. */
  entries: SafetensorsEntry[];
  /** Where the data buffer starts in the file (8 + header length). */
  dataOffset: number;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function parseEntry(name: string, value: unknown): SafetensorsEntry {
  const what = `tensor "${name}"`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SafetensorsError(`${what}: header entry is not an object`);
  const { dtype, shape, data_offsets: offsets, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new SafetensorsError(`${what}: unknown header field "${unknown[0]}"`);
  const onnxType = typeof dtype === 'string' ? DTYPES[dtype] : undefined;
  if (!onnxType) throw new SafetensorsError(`${what}: unsupported dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || !shape.every(isCount)) throw new SafetensorsError(`${what}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
    throw new SafetensorsError(`${what}: data_offsets ${JSON.stringify(offsets)} is not [begin, end] with 0 <= begin <= end`);
  }
  const count = shape.reduce((a: number, b: number) => a * b, 1);
  const expected = byteLengthOf(onnxType, count);
  const [begin, end] = offsets as number[];
  if (!Number.isSafeInteger(count) || end - begin !== expected) {
    throw new SafetensorsError(`${what}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes, its ${dtype} shape [${shape.join(', ')}] needs ${expected}`);
  }
  return { name, dtype: onnxType, shape: shape as number[], begin, end };
}

function parseMetadata(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SafetensorsError(`${METADATA_KEY} is not an object`);
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new SafetensorsError(`${METADATA_KEY} value of "${key}" is not a string`);
  }
  return { ...(value as Record<string, string>) };
}

/** The header length from the first 8 bytes, checked against the cap and the file size. */
export function readHeaderLength(prefix: Uint8Array, fileSize: number): number {
  if (fileSize < 8 || prefix.byteLength < 8) throw new SafetensorsError(`file of ${fileSize} bytes is too short for a safetensors header`);
  const length = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError(`header length ${length} is over the ${MAX_HEADER_BYTES}-byte limit`);
  if (Number(length) + 8 > fileSize) throw new SafetensorsError(`header length ${length} runs past the end of the ${fileSize}-byte file`);
  return Number(length);
}

/** Parse and check the JSON header; `dataBytes` is the size of the data buffer that follows it. */
export function parseHeader(json: Uint8Array, dataBytes: number): SafetensorsHeader {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(json);
  } catch {
    throw new SafetensorsError('header is not valid UTF-8');
  }
  if (!text.startsWith('{')) throw new SafetensorsError('header does not start with "{"');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new SafetensorsError(`header is not valid JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new SafetensorsError('header is not a JSON object');
  let metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, value] of Object.entries(parsed)) {
    if (name === METADATA_KEY) metadata = parseMetadata(value);
    else entries.push(parseEntry(name, value));
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let position = 0;
  for (const entry of entries) {
    if (entry.begin !== position) {
      throw new SafetensorsError(entry.begin < position
        ? `tensor "${entry.name}": data_offsets [${entry.begin}, ${entry.end}] overlap the tensor before it (which ends at ${position})`
        : `tensor "${entry.name}": data_offsets start at ${entry.begin}, leaving a gap after byte ${position}`);
    }
    position = entry.end;
  }
  if (position !== dataBytes) {
    throw new SafetensorsError(position > dataBytes
      ? `tensor data ends at byte ${position}, past the end of the ${dataBytes}-byte data buffer`
      : `the data buffer holds ${dataBytes} bytes but the tensors account for ${position}`);
  }
  return { metadata, entries, dataOffset: 8 + json.byteLength };
}

/** Header bytes for tensors laid out in the given order, padded with spaces so data starts 8-aligned. */
export function encodeHeader(entries: readonly SafetensorsEntry[], metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header[METADATA_KEY] = metadata;
  for (const e of entries) {
    const code = safetensorsDtype(e.dtype);
    if (!code) throw new SafetensorsError(`tensor "${e.name}": safetensors has no ${e.dtype} dtype`);
    header[e.name] = { dtype: code, shape: e.shape, data_offsets: [e.begin, e.end] };
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil((8 + json.byteLength) / 8) * 8 - 8;
  const out = new Uint8Array(8 + padded).fill(0x20, 8);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  return out;
}
