// A request's deadline over HTTP: the `Timeout-Ms` header, the KServe/Triton request parameter
// `timeout` (microseconds) and our `timeout_ms` parameter, all relative to the request's arrival.
import type { IncomingHttpHeaders } from 'http';
import { InvalidRequestError } from '../runtime/errors';

/** Header holding the request's timeout in milliseconds (a non-negative number; 0: none). */
export const TIMEOUT_HEADER = 'timeout-ms';

function headerTimeoutMs(headers: IncomingHttpHeaders): number | undefined {
  const raw = headers[TIMEOUT_HEADER];
  if (raw === undefined) return undefined;
  const text = Array.isArray(raw) ? raw[0] : raw;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) {
    throw new InvalidRequestError(`the ${TIMEOUT_HEADER} header must be a number of milliseconds >= 0, not "${text}"`);
  }
  return value;
}

function parameterTimeoutMs(body: unknown): number | undefined {
  const parameters = (body as { parameters?: unknown } | undefined)?.parameters;
  if (typeof parameters !== 'object' || parameters === null) return undefined;
  const value = (parameters as { timeout?: unknown }).timeout;
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidRequestError('parameters.timeout must be a number of microseconds >= 0');
  }
  return value / 1000;
}

/**
 * The request's timeout in ms: the shortest of the header, parameters.timeout (µs) and
 * parameters.timeout_ms (`timeoutMsParameter`, decoded by the codec). 0 (every one given is 0): no
 * timeout, not even the model's queue timeout. Undefined: none given, the model's queue timeout applies.
 */
export function requestTimeoutMs(headers: IncomingHttpHeaders, body: unknown, timeoutMsParameter: number | undefined): number | undefined {
  const given = [headerTimeoutMs(headers), parameterTimeoutMs(body), timeoutMsParameter].filter((v): v is number => v !== undefined);
  if (given.length === 0) return undefined;
  const positive = given.filter((v) => v > 0);
  return positive.length ? Math.min(...positive) : 0;
}
