// Runtime failures -> gRPC status codes, from the same stable codes the HTTP API sends.
import { status as Status } from '@grpc/grpc-js';
import { errorCode, RuntimeError } from '../../runtime/errors';

export interface GrpcError {
  code: Status;
  details: string;
}

const BY_CODE: Record<string, Status> = {
  invalid_request: Status.INVALID_ARGUMENT,
  model_not_found: Status.NOT_FOUND,
  model_unavailable: Status.UNAVAILABLE,
  model_load_failed: Status.FAILED_PRECONDITION,
  overloaded: Status.UNAVAILABLE,
  timeout: Status.DEADLINE_EXCEEDED,
  deadline_exceeded: Status.DEADLINE_EXCEEDED,
  cancelled: Status.CANCELLED,
  shutting_down: Status.UNAVAILABLE,
  execution_failed: Status.INTERNAL,
};

const BY_HTTP_STATUS: Record<number, Status> = { 400: Status.INVALID_ARGUMENT, 401: Status.UNAUTHENTICATED, 403: Status.PERMISSION_DENIED, 413: Status.RESOURCE_EXHAUSTED };

/**
 * The status and message for a failure. Engine failures and our own bugs carry internals
 * (paths, kernel messages): those go to `log`, the client gets a short message.
 */
export function grpcErrorOf(err: Error, log: (line: string) => void): GrpcError {
  const code = errorCode(err);
  if (code === 'execution_failed' || code === 'internal') {
    log(`grpc ${code}: ${err.stack ?? err.message}`);
    const details = code === 'execution_failed' ? 'the model failed to run this request (the server log has the detail)' : 'internal server error (the server log has the detail)';
    return { code: Status.INTERNAL, details };
  }
  if (code === 'capacity') return { code: (err as RuntimeError).retryAfterSeconds === undefined ? Status.RESOURCE_EXHAUSTED : Status.UNAVAILABLE, details: err.message };
  const status = BY_CODE[code] ?? BY_HTTP_STATUS[(err as RuntimeError).status] ?? Status.UNKNOWN;
  return { code: status, details: err.message };
}
