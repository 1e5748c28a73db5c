// The error body every route answers with: a status, a stable code, and a message that never carries
// an engine's internals (those go to the log).
import { errorCode, RuntimeError } from '../runtime/errors';

export interface ErrorReply {
  status: number;
  headers: Record<string, string>;
  body: { error: string; code: string };
}

export function errorReply(err: Error & { statusCode?: number }, log: (line: string) => void): ErrorReply {
  const status = err instanceof RuntimeError ? err.status : err.statusCode ?? 500;
  const headers: Record<string, string> = {};
  if (err instanceof RuntimeError && err.retryAfterSeconds !== undefined) headers['retry-after'] = String(err.retryAfterSeconds);
  if (status === 401) headers['www-authenticate'] = 'Bearer';
  const code = errorCode(err);
  // A failure inside the engine (or our own bug) carries its internals (paths, kernel messages): they go to
  // the log; the client gets the stable code and a short message.
  const internal = status >= 500 && (code === 'execution_failed' || code === 'internal');
  if (internal) log(`${code}: ${err.stack ?? err.message}`);
  const message = code === 'execution_failed' ? 'the model failed to run this request (the server log has the detail)'
    : code === 'internal' && status >= 500 ? 'internal server error (the server log has the detail)' : err.message;
  return { status, headers, body: { error: message, code } };
}
