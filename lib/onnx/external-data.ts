// Reads external tensor data lazily: each byte range is read from disk once, on first use, and kept.
// Files are checked to stay inside the model's folder (symlinks included) and to be unchanged since load.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TensorProto } from './gen/onnx_pb';
import { describeError, ExternalDataError } from './errors';
import { parseExternalLocation } from './external-location';
import { expectedByteLength, type ExternalBytes } from './tensor';

/** A resolved external range: absolute file path, offset, and byte count. */
export interface ExternalRange {
  file: string;
  offset: number;
  length: number;
}

interface FileIdentity {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

// Node's single read/write call is limited to 2 GiB; larger ranges go in chunks.
export const IO_CHUNK = 256 * 1024 * 1024;

function identityOf(stat: fs.Stats): FileIdentity {
  return { dev: stat.dev, ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs };
}

function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

function isInside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** Reads `length` bytes at `offset` of an open file into a fresh (aligned) buffer. */
export function readRange(fd: number, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, out, done, Math.min(IO_CHUNK, length - done), offset + done);
    if (n === 0) throw new Error(`unexpected end of file after ${offset + done} bytes`);
    done += n;
  }
  return out;
}

export class ExternalDataSource implements ExternalBytes {
  /** Absolute folder the model was loaded from; locations resolve against it. */
  readonly baseDir: string;
  private readonly realBase: string;
  private readonly files = new Map<string, FileIdentity>();
  private readonly cache = new Map<string, Uint8Array>();

  constructor(baseDir: string) {
    this.baseDir = path.resolve(baseDir);
    try {
      this.realBase = fs.realpathSync(this.baseDir);
    } catch (err) {
      throw new ExternalDataError(`external data folder "${baseDir}" cannot be opened: ${describeError(err)}`, { cause: err });
    }
  }

  /** Where a tensor's bytes live; checks containment, existence, range and size against the tensor's shape. */
  resolve(tensor: TensorProto): ExternalRange {
    const loc = parseExternalLocation(tensor);
    const what = `tensor "${tensor.name}"`;
    const file = path.resolve(this.baseDir, loc.location);
    let real: string;
    let stat: fs.Stats;
    try {
      real = fs.realpathSync(file);
      stat = fs.statSync(real);
    } catch (err) {
      throw new ExternalDataError(`${what}: external data file "${loc.location}" cannot be opened: ${describeError(err)}`, { cause: err });
    }
    if (!isInside(this.realBase, real)) throw new ExternalDataError(`${what}: external data location "${loc.location}" resolves outside the model's folder (symlink?)`);
    if (!stat.isFile()) throw new ExternalDataError(`${what}: external data location "${loc.location}" is not a regular file`);
    const known = this.files.get(real);
    if (!known) this.files.set(real, identityOf(stat));
    else if (!sameIdentity(known, identityOf(stat))) throw new ExternalDataError(`${what}: external data file "${loc.location}" changed on disk since the model was loaded`);
    const length = loc.length ?? stat.size - loc.offset;
    if (loc.offset + length > stat.size || length < 0) {
      throw new ExternalDataError(`${what}: external data range ${loc.offset}+${length} lies beyond the end of "${loc.location}" (${stat.size} bytes)`);
    }
    const expected = expectedByteLength(tensor);
    if (expected !== undefined && expected !== length) {
      throw new ExternalDataError(`${what}: external data holds ${length} bytes, its shape needs ${expected}`);
    }
    return { file: real, offset: loc.offset, length };
  }

  /** Cache key from the tensor's own fields, so cached bytes are served without touching the disk. */
  private cacheKey(tensor: TensorProto): string {
    const loc = parseExternalLocation(tensor);
    return `${path.resolve(this.baseDir, loc.location)}\0${loc.offset}\0${loc.length ?? ''}`;
  }

  /** A tensor's bytes, read on first use and then served from memory. */
  read(tensor: TensorProto): Uint8Array {
    const key = this.cacheKey(tensor);
    const cached = this.cache.get(key);
    if (cached) return cached;
    const range = this.resolve(tensor);
    const bytes = this.withFile(range.file, tensor, (fd) => readRange(fd, range.offset, range.length));
    this.cache.set(key, bytes);
    return bytes;
  }

  /** Bytes already in memory for this tensor, if it was read before. */
  cached(tensor: TensorProto): Uint8Array | undefined {
    return this.cache.get(this.cacheKey(tensor));
  }

  /** Size of a tensor's external data. */
  byteLength(tensor: TensorProto): number {
    return this.cached(tensor)?.byteLength ?? this.resolve(tensor).length;
  }

  /** Run `fn` on an open descriptor of a registered file after checking it is the file seen at load. */
  withFile<T>(file: string, tensor: TensorProto, fn: (fd: number) => T): T {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (err) {
      throw new ExternalDataError(`tensor "${tensor.name}": cannot open external data file "${file}": ${describeError(err)}`, { cause: err });
    }
    try {
      const known = this.files.get(file);
      if (known && !sameIdentity(known, identityOf(fs.fstatSync(fd)))) {
        throw new ExternalDataError(`tensor "${tensor.name}": external data file "${file}" changed on disk since the model was loaded`);
      }
      return fn(fd);
    } catch (err) {
      if (err instanceof ExternalDataError) throw err;
      throw new ExternalDataError(`tensor "${tensor.name}": cannot read external data from "${file}": ${describeError(err)}`, { cause: err });
    } finally {
      fs.closeSync(fd);
    }
  }
}
