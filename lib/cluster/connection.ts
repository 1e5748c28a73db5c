// Redis URLs -> connection options for ioredis and BullMQ: password and user (ACL), database,
// TLS for rediss://, reconnection that never gives up. Passwords never reach logs (redactUrl).
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
    tls: parsed.protocol === 'rediss:' ? { servername: host } : undefined,
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
