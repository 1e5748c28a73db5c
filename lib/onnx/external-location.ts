// Parsing and vetting of a tensor's external_data entries (location, offset, length).
// A location may only name a file inside the model's folder: never absolute, never climbing out with "..".
import * as path from 'node:path';
import type { TensorProto } from './gen/onnx_pb';
import { ExternalDataError } from './errors';

export interface ExternalLocation {
  /** Normalized POSIX path relative to the model's folder. */
  location: string;
  offset: number;
  /** Bytes to read; undefined means "to the end of the file". */
  length: number | undefined;
}

function parseByteCount(tensor: TensorProto, key: string, text: string): number {
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value)) {
    throw new ExternalDataError(`tensor "${tensor.name}": external_data ${key} "${text}" is not a non-negative integer below 2^53`);
  }
  return value;
}

/** Refuse locations that are empty, absolute, or escape the model's folder; returns the normalized form. */
export function checkRelativeLocation(location: string, what: string): string {
  // Backslashes count as separators so that Windows-style "..\\x" cannot slip through on POSIX.
  const posix = location.replace(/\\/g, '/');
  if (location === '' || location.includes('\0')) throw new ExternalDataError(`${what}: external data location ${JSON.stringify(location)} is not a valid file name`);
  if (path.posix.isAbsolute(posix) || path.win32.isAbsolute(location) || /^[A-Za-z]:/.test(posix)) {
    throw new ExternalDataError(`${what}: external data location "${location}" is absolute; only paths inside the model's folder are allowed`);
  }
  const normalized = path.posix.normalize(posix);
  if (normalized === '..' || normalized.startsWith('../') || normalized === '.') {
    throw new ExternalDataError(`${what}: external data location "${location}" points outside the model's folder`);
  }
  return normalized;
}

/** Read and check a tensor's external_data key/value pairs. */
export function parseExternalLocation(tensor: TensorProto): ExternalLocation {
  let location: string | undefined;
  let offset = 0;
  let length: number | undefined;
  for (const entry of tensor.externalData) {
    if (entry.key === 'location') location = entry.value;
    else if (entry.key === 'offset') offset = parseByteCount(tensor, 'offset', entry.value);
    else if (entry.key === 'length') length = parseByteCount(tensor, 'length', entry.value);
  }
  if (location === undefined) throw new ExternalDataError(`tensor "${tensor.name}" is marked EXTERNAL but has no external_data location`);
  return { location: checkRelativeLocation(location, `tensor "${tensor.name}"`), offset, length };
}
