// Reads NumPy .npz archives (np.savez / np.savez_compressed): a zip of .npy members, stored or
// deflated, with zip64 extras where numpy writes them. Only what .npz files use is supported.
import * as zlib from 'zlib';
import type { HostTensor } from '../../engine/tensor';
import { parseNpy } from '../../compare/npy';

export class NpzFormatError extends Error {
  constructor(source: string, reason: string) {
    super(`${source}: not a readable .npz file: ${reason}`);
    this.name = 'NpzFormatError';
  }
}

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_ENTRY = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
const ZIP64_EXTRA = 0x0001;
const STORED = 0;
const DEFLATED = 8;

/** Default cap on the bytes an archive's arrays may take once decompressed (1 GiB). */
export const DEFAULT_NPZ_MAX_BYTES = 1024 ** 3;

export interface ParseNpzOptions {
  /**
   * Most bytes all members together may take once decompressed (default 1 GiB). A small archive can
   * inflate to gigabytes; past this cap parseNpz refuses before inflating.
   */
  maxBytes?: number;
}

interface Entry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

function findEndRecord(view: DataView, source: string): number {
  // The record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
  const stop = Math.max(0, view.byteLength - 22 - 0xffff);
  for (let at = view.byteLength - 22; at >= stop; at--) {
    if (view.getUint32(at, true) === END_OF_CENTRAL_DIRECTORY) return at;
  }
  throw new NpzFormatError(source, 'no zip end-of-central-directory record (truncated or not a zip)');
}

/** Zip64 extra fields hold the 64-bit values whose 32-bit slots are 0xFFFFFFFF, in a fixed order. */
function applyZip64(view: DataView, start: number, length: number, entry: Entry): void {
  for (let at = start; at + 4 <= start + length;) {
    const id = view.getUint16(at, true);
    const size = view.getUint16(at + 2, true);
    if (id === ZIP64_EXTRA) {
      let field = at + 4;
      const next = (): number => {
        const v = Number(view.getBigUint64(field, true));
        field += 8;
        return v;
      };
      if (entry.size === 0xffffffff) entry.size = next();
      if (entry.compressedSize === 0xffffffff) entry.compressedSize = next();
      if (entry.localOffset === 0xffffffff) entry.localOffset = next();
    }
    at += 4 + size;
  }
}

function readEntries(view: DataView, source: string): Entry[] {
  const end = findEndRecord(view, source);
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const entries: Entry[] = [];
  const decoder = new TextDecoder();
  for (let i = 0; i < count; i++) {
    if (at + 46 > view.byteLength || view.getUint32(at, true) !== CENTRAL_ENTRY) throw new NpzFormatError(source, 'damaged central directory');
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const entry: Entry = {
      name: decoder.decode(new Uint8Array(view.buffer, view.byteOffset + at + 46, nameLength)),
      method: view.getUint16(at + 10, true),
      compressedSize: view.getUint32(at + 20, true),
      size: view.getUint32(at + 24, true),
      localOffset: view.getUint32(at + 42, true),
    };
    applyZip64(view, at + 46 + nameLength, extraLength, entry);
    entries.push(entry);
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function entryBytes(bytes: Uint8Array, view: DataView, entry: Entry, source: string): Uint8Array {
  const at = entry.localOffset;
  if (at + 30 > view.byteLength || view.getUint32(at, true) !== LOCAL_HEADER) throw new NpzFormatError(source, `damaged entry ${entry.name}`);
  const start = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
  if (start + entry.compressedSize > bytes.byteLength) throw new NpzFormatError(source, `entry ${entry.name} is truncated`);
  const raw = bytes.subarray(start, start + entry.compressedSize);
  if (entry.method === STORED) return raw;
  if (entry.method === DEFLATED) {
    let out: Buffer;
    try {
      // Never inflate past the declared size, so a member that lies about it cannot exhaust memory.
      out = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new NpzFormatError(source, `entry ${entry.name} inflates past its declared ${entry.size} bytes`);
      throw new NpzFormatError(source, `entry ${entry.name} cannot be inflated: ${(err as Error).message}`);
    }
    if (out.byteLength !== entry.size) throw new NpzFormatError(source, `entry ${entry.name} inflates to ${out.byteLength} bytes, expected ${entry.size}`);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }
  throw new NpzFormatError(source, `entry ${entry.name} uses zip compression method ${entry.method}; only stored and deflate are supported`);
}

/** The arrays of an .npz file by name (member names without ".npy"). */
export function parseNpz(bytes: Uint8Array, source = 'npz', options: ParseNpzOptions = {}): Map<string, HostTensor> {
  const maxBytes = options.maxBytes ?? DEFAULT_NPZ_MAX_BYTES;
  if (!(maxBytes >= 0)) throw new RangeError(`maxBytes must be a non-negative number, got ${maxBytes}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const arrays = new Map<string, HostTensor>();
  const entries = readEntries(view, source);
  const total = entries.reduce((sum, e) => sum + e.size, 0);
  if (total > maxBytes) {
    throw new NpzFormatError(source, `its arrays would take ${total} bytes decompressed, over the ${maxBytes}-byte limit (maxBytes)`);
  }
  for (const entry of entries) {
    if (entry.name.endsWith('/')) continue;
    const name = entry.name.replace(/\.npy$/, '');
    arrays.set(name, parseNpy(entryBytes(bytes, view, entry, source), `${source}:${entry.name}`));
  }
  return arrays;
}
