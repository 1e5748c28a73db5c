// Bearer tokens: one for model control (load/unload), optionally one for inference.
import { timingSafeEqual, createHash } from 'crypto';
import type { IncomingHttpHeaders } from 'http';
import { RuntimeError } from '../runtime/errors';

export class AuthError extends RuntimeError {
  constructor(message: string, status: 401 | 403) {
    super(message, status);
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Compares in constant time (hashing first so the lengths always match). */
function sameToken(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** What the checks read of a request (a FastifyRequest or a raw IncomingMessage). */
type WithHeaders = { headers: IncomingHttpHeaders };

function bearer(request: WithHeaders): string | undefined {
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(.+)$/i.exec(header) : null;
  return match?.[1].trim();
}

/** Inference and metadata: open when no token is set; the admin token works too. */
export function checkInferenceAuth(request: WithHeaders, token: string | undefined, adminToken: string | undefined): void {
  if (!token) return;
  const given = bearer(request);
  if (given && (sameToken(given, token) || (adminToken !== undefined && sameToken(given, adminToken)))) return;
  throw new AuthError(given ? 'invalid token' : 'this server needs a token: send "Authorization: Bearer <token>"', 401);
}

/** Model control: refused outright when the server has no admin token. */
export function checkAdminAuth(request: WithHeaders, adminToken: string | undefined): void {
  if (!adminToken) {
    throw new AuthError('model control is disabled; start the server with --admin-token (or ONNXFORGE_ADMIN_TOKEN)', 403);
  }
  const given = bearer(request);
  if (given && sameToken(given, adminToken)) return;
  throw new AuthError(given ? 'invalid admin token' : 'model control needs the admin token: send "Authorization: Bearer <token>"', 401);
}
