// A request body as the server reads it: JSON, or the KServe binary extension (a JSON header of
// inference-header-content-length bytes, then raw tensor bytes). What cannot be a request is refused
// before any parsing work: a content type that is not JSON or binary (415), JSON nested deeper than any
// request needs (400; a deep array takes JSON.parse seconds on the event loop).
import type { IncomingHttpHeaders } from 'http';
import { InvalidRequestError, RuntimeError } from '../runtime/errors';
import { HEADER_LENGTH } from './codec';

/** Deeper than a request's JSON ever is: {inputs: [{data: [...one level per dim...]}]}. */
export const MAX_JSON_DEPTH = 64;

const CONTENT_TYPES = ['application/json', 'application/octet-stream', 'application/vnd.sagemaker-triton.binary+json'];

export interface ParsedBody {
  json: unknown;
  binary?: Buffer;
}

export class BadRequestError extends InvalidRequestError {}

class UnsupportedMediaTypeError extends RuntimeError {
  constructor(type: string) {
    super(`content-type ${type} is not a request this server reads; send ${CONTENT_TYPES.join(' or ')}`, 415);
  }
}

/** False as soon as brackets nest deeper than `limit` (strings and their escapes skipped). */
export function nestingWithin(bytes: Uint8Array, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return false;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return true;
}

function parseJson(bytes: Buffer): unknown {
  if (!nestingWithin(bytes, MAX_JSON_DEPTH)) throw new BadRequestError(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new BadRequestError(`malformed JSON: ${(err as Error).message}`);
  }
}

export function parseBody(headers: IncomingHttpHeaders, body: Buffer): ParsedBody {
  const type = headers['content-type']?.split(';')[0].trim().toLowerCase();
  // No content type is read as JSON, as curl and most clients send it.
  if (type && !CONTENT_TYPES.includes(type)) throw new UnsupportedMediaTypeError(type);
  const header = headers[HEADER_LENGTH];
  if (header !== undefined) {
    const length = Number(header);
    if (!Number.isSafeInteger(length) || length < 0 || length > body.length) {
      throw new BadRequestError(`${HEADER_LENGTH} must be an integer between 0 and the body length (${body.length})`);
    }
    return { json: parseJson(body.subarray(0, length)), binary: body.subarray(length) };
  }
  return { json: body.length ? parseJson(body) : undefined };
}
