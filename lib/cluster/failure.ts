// A failed job's reason carries the HTTP status of the runtime error behind it ("[404] unknown model"),
// so a client on another machine raises the same error class the local runtime would.
import { PayloadTooLargeError } from '../serve/codec';
import {
  ExecutionError, InvalidRequestError, ModelNotFoundError, OverloadedError, RequestTimeoutError, RuntimeError,
} from '../runtime/errors';

export function failureReason(err: unknown): string {
  const status = err instanceof RuntimeError ? err.status : 500;
  const message = err instanceof Error ? err.message : String(err);
  return `[${status}] ${message}`;
}

/** The error a failed reason stands for; reasons BullMQ writes itself (a job stalled too often) are execution errors. */
export function errorFromReason(reason: string): RuntimeError {
  const match = /^\[([0-9]{3})\] ([\s\S]*)$/.exec(reason);
  if (!match) return new ExecutionError(`job failed: ${reason}`);
  return errorFromStatus(Number(match[1]), match[2]);
}

export function errorFromStatus(status: number, message: string): RuntimeError {
  switch (status) {
    case 400: return new InvalidRequestError(message);
    case 404: return new ModelNotFoundError(message);
    case 413: return new PayloadTooLargeError(message);
    case 503: return new OverloadedError(message);
    case 504: return new RequestTimeoutError(message);
    case 500: return new ExecutionError(message);
    default: return new RuntimeError(message, status);
  }
}
