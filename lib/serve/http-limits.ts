// The connection limits of the HTTP server: a slow client (slowloris: headers or body trickled in) or a
// flood of idle sockets cannot hold the server's connections forever. Node's http server enforces them;
// it checks the header and request deadlines every checkIntervalMs.
import * as http from 'http';

export interface ConnectionLimits {
  /** Time to receive a request's headers (default 10 s). */
  headersTimeoutMs?: number;
  /** Time to receive a whole request, body included (default 60 s). */
  requestTimeoutMs?: number;
  /** Time a keep-alive connection may sit idle between requests (default 5 s). */
  idleTimeoutMs?: number;
  /** Open connections at most; more are closed at once (default 1024). */
  maxConnections?: number;
}

export const CONNECTION_DEFAULTS: Required<ConnectionLimits> = {
  headersTimeoutMs: 10_000, requestTimeoutMs: 60_000, idleTimeoutMs: 5_000, maxConnections: 1024,
};

/** An http.Server with the limits applied, for Fastify's serverFactory. */
export function limitedServer(limits: ConnectionLimits, handler: http.RequestListener): http.Server {
  const l = { ...CONNECTION_DEFAULTS, ...limits };
  // Deadlines are checked this often: a tenth of the shortest, at least every 10 ms.
  const checkIntervalMs = Math.max(10, Math.min(1000, Math.floor(Math.min(l.headersTimeoutMs, l.requestTimeoutMs) / 10)));
  const server = http.createServer({
    headersTimeout: l.headersTimeoutMs,
    requestTimeout: l.requestTimeoutMs,
    keepAliveTimeout: l.idleTimeoutMs,
    connectionsCheckingInterval: checkIntervalMs,
  }, handler);
  server.maxConnections = l.maxConnections;
  return server;
}
