// Redis URLs -> connection options for ioredis and BullMQ: password and user (ACL), database,
// TLS for rediss://, reconnection that never gives up. Passwords never reach logs (redactUrl).
import type Redis from 'ioredis';
import { isIP } from 'net';
import type { ConnectionOptions as TlsOptions } from 'tls';
import { ClusterConfigError } from './names';

/** What both ioredis and BullMQ take. */
export interface RedisConnectionOptions {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  tls?: TlsOptions;
  connectionName?: string;
  maxRetriesPerRequest: null;
  retryStrategy: (times: number) => number;
}

/** redis://[user:password@]host[:port][/db] or rediss://… (TLS; NODE_EXTRA_CA_CERTS adds a private CA). */
export function connectionOptions(url: string, connectionName?: string): RedisConnectionOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ClusterConfigError(`expected a Redis URL like redis://[:password@]host[:port][/db] or rediss://..., got "${redactUrl(url)}"`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ClusterConfigError(`a Redis URL starts with redis:// or rediss://, got "${redactUrl(url)}"`);
  }
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^[0-9]{1,5}$/.test(db)) throw new ClusterConfigError(`the Redis database must be a number, got "${db}" in "${redactUrl(url)}"`);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  return {
    host: host || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: db === '' ? 0 : Number(db),
    // The server name (SNI) is a host name; for an address the certificate is checked against the address.
    tls: parsed.protocol === 'rediss:' ? (isIP(host) ? {} : { servername: host }) : undefined,
    connectionName,
    // Commands wait for the connection instead of failing while Redis restarts; callers bound the wait.
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
  };
}

/** The URL with its password replaced, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:@/]*:)[^@/]*@/i, '$1***@');
}

/** A TLS failure that retrying cannot fix (Node's certificate error codes). */
function isCertificateError(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code);
}

/** Resolves when `redis` is connected; fails with the last connection error after `timeoutMs`. */
export function waitForRedis(redis: Redis, url: string, timeoutMs = 10000): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    let last = 'no answer';
    const onError = (err: Error) => {
      last = err.message || String(err);
      // Retrying fixes neither credentials nor a certificate that is not trusted.
      if (/WRONGPASS|NOAUTH|invalid password|invalid username/i.test(last)) done(new ClusterConfigError(`Redis at ${redactUrl(url)} refused the credentials: ${last}`));
      else if (isCertificateError(err)) done(new ClusterConfigError(`Redis at ${redactUrl(url)}: its TLS certificate is not trusted here (${last}); NODE_EXTRA_CA_CERTS names a private CA`));
    };
    const done = (err?: Error) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
      if (err) reject(err);
      else resolve();
    };
    const onReady = () => done();
    const timer = setTimeout(() => done(new ClusterConfigError(`cannot reach Redis at ${redactUrl(url)} within ${timeoutMs} ms: ${last}`)), timeoutMs);
    redis.on('ready', onReady);
    redis.on('error', onError);
    if (redis.status === 'wait') redis.connect().catch(onError);
  });
}
