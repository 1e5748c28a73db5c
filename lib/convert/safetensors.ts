// Reading and writing safetensors files. The reader checks the header up front and reads each tensor's
// bytes only when asked; the writer streams tensors to a temporary file renamed into place when done.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AtomicFileGroup, writeFully } from '../onnx/atomic-file';
import type { DTypeName } from '../onnx/dtype';
import { byteLengthOf, dtypeInfo } from '../onnx/dtype';
import { describeError } from '../onnx/errors';
import { readRange } from '../onnx/external-data';
import {
  encodeHeader, METADATA_KEY, parseHeader, readHeaderLength, SafetensorsError, safetensorsDtype,
  type SafetensorsEntry,
} from './safetensors-format';

export { SafetensorsError, safetensorsDtype, type SafetensorsEntry };

function withFile<T>(file: string, what: string, fn: (fd: number) => T): T {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw new SafetensorsError(`cannot open ${what} "${file}": ${describeError(err)}`);
  }
  try {
    return fn(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export class SafetensorsFile {
  readonly metadata: Record<string, string>;
  /** Tensors in file order. */
  readonly entries: readonly SafetensorsEntry[];
  private readonly byName: Map<string, SafetensorsEntry>;
  private readonly dataOffset: number;
  private readonly size: number;

  private constructor(readonly path: string, header: ReturnType<typeof parseHeader>, size: number) {
    this.metadata = header.metadata;
    this.entries = header.entries;
    this.byName = new Map(header.entries.map((e) => [e.name, e]));
    this.dataOffset = header.dataOffset;
    this.size = size;
  }

  /** Open a file and check its header; tensor bytes are read later, on demand. */
  static open(file: string): SafetensorsFile {
    return withFile(file, 'safetensors file', (fd) => {
      const size = fs.fstatSync(fd).size;
      try {
        const length = readHeaderLength(readRange(fd, 0, Math.min(8, size)), size);
        const header = parseHeader(readRange(fd, 8, length), size - 8 - length);
        return new SafetensorsFile(file, header, size);
      } catch (err) {
        throw new SafetensorsError(`${file}: ${describeError(err)}`);
      }
    });
  }

  entry(name: string): SafetensorsEntry | undefined {
    return this.byName.get(name);
  }

  /** The raw little-endian bytes of one tensor. */
  read(name: string): Uint8Array {
    const entry = this.byName.get(name);
    if (!entry) throw new SafetensorsError(`${this.path}: no tensor named "${name}"`);
    return withFile(this.path, 'safetensors file', (fd) => {
      if (fs.fstatSync(fd).size !== this.size) throw new SafetensorsError(`${this.path}: the file changed size since it was opened`);
      return readRange(fd, this.dataOffset + entry.begin, entry.end - entry.begin);
    });
  }
}

export interface TensorToWrite {
  name: string;
  dtype: DTypeName;
  dims: readonly number[];
  /** The tensor's bytes, fetched when it is written (so large models are not held in memory twice). */
  bytes: () => Uint8Array;
}

/** Write tensors to `file` atomically; wider dtypes first so every tensor starts aligned to its element size. */
export function writeSafetensors(file: string, tensors: readonly TensorToWrite[], metadata: Record<string, string> = {}): { bytes: number } {
  const names = new Set<string>();
  for (const t of tensors) {
    if (t.name === '' || t.name === METADATA_KEY) throw new SafetensorsError(`a tensor cannot be named ${JSON.stringify(t.name)} in safetensors`);
    if (names.has(t.name)) throw new SafetensorsError(`two tensors are named "${t.name}"`);
    names.add(t.name);
    if (!safetensorsDtype(t.dtype)) throw new SafetensorsError(`tensor "${t.name}": safetensors has no ${t.dtype} dtype`);
  }
  const ordered = [...tensors].sort((a, b) => dtypeInfo(b.dtype).bits - dtypeInfo(a.dtype).bits || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let position = 0;
  const entries = ordered.map((t) => {
    const length = byteLengthOf(t.dtype, t.dims.reduce((a, b) => a * b, 1));
    const entry: SafetensorsEntry = { name: t.name, dtype: t.dtype, shape: [...t.dims], begin: position, end: position + length };
    position += length;
    return entry;
  });
  const header = encodeHeader(entries, metadata);
  const group = new AtomicFileGroup();
  try {
    const fd = group.open(path.resolve(file));
    writeFully(fd, header, 0);
    ordered.forEach((t, i) => {
      const bytes = t.bytes();
      const want = entries[i].end - entries[i].begin;
      if (bytes.byteLength !== want) throw new SafetensorsError(`tensor "${t.name}": ${bytes.byteLength} bytes given, its shape needs ${want}`);
      writeFully(fd, bytes, header.byteLength + entries[i].begin);
    });
    group.commit();
  } catch (err) {
    group.abort();
    if (err instanceof SafetensorsError) throw err;
    throw new SafetensorsError(`cannot write "${file}": ${describeError(err)}`);
  }
  return { bytes: header.byteLength + position };
}
