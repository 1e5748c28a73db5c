// The infer route on Node's http server itself, ahead of fastify: the one route whose fixed cost is paid
// by every request. The body is read into one buffer sized by content-length, and the response goes out
// from the encoded pieces (JSON header, then the output tensors' own bytes) in one corked write.
// Every other route, and fastify's inject(), keep going through fastify.
import type { IncomingMessage, ServerResponse } from 'http';
import { RuntimeError } from '../runtime/errors';

export interface InferParams {
  model: string;
  version?: string;
}

const INFER_PATH = /^\/v2\/models\/([^/?]+)(?:\/versions\/([^/?]+))?\/infer(?:\?.*)?$/;

/** The model (and version) of a POST to an infer route; undefined for any other request. */
export function matchInferRoute(req: IncomingMessage): InferParams | undefined {
  if (req.method !== 'POST' || !req.url?.startsWith('/v2/models/')) return undefined;
  const match = INFER_PATH.exec(req.url);
  if (!match) return undefined;
  try {
    return { model: decodeURIComponent(match[1]), version: match[2] === undefined ? undefined : decodeURIComponent(match[2]) };
  } catch {
    // Malformed percent-encoding: fastify answers it.
    return undefined;
  }
}

export class BodyTooLargeError extends RuntimeError {
  constructor(limit: number) {
    super(`the request body is larger than ${limit} bytes`, 413);
  }
}

/** The whole body; one allocation when content-length is given. Rejects past `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']);
  if (declared !== undefined && declared > limit) return Promise.reject(new BodyTooLargeError(limit));
  return new Promise((resolve, reject) => {
    const sized = declared !== undefined && Number.isSafeInteger(declared) ? Buffer.allocUnsafe(declared) : undefined;
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      if (received + chunk.length > limit || (sized && received + chunk.length > sized.length)) {
        cleanup();
        reject(new BodyTooLargeError(limit));
        return;
      }
      if (sized) chunk.copy(sized, received);
      else chunks.push(chunk);
      received += chunk.length;
    };
    const onEnd = () => {
      cleanup();
      resolve(sized ? sized.subarray(0, received) : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    // A client gone before the end of its body: nothing will follow.
    const onClose = () => onError(new Error('the client closed the connection before the end of the body'));
    const cleanup = () => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
    };
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/** Writes a whole response: headers, then every chunk, in as few syscalls as the socket allows. */
export function writeResponse(res: ServerResponse, status: number, headers: Record<string, string>, chunks: readonly Buffer[], byteLength: number): void {
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('content-length', byteLength);
  if (chunks.length === 1) {
    res.end(chunks[0]);
    return;
  }
  res.cork();
  for (const chunk of chunks) res.write(chunk);
  res.end();
}
