// Options the cluster commands share: where Redis is, the key prefix, payload limits.
import { Command } from 'commander';
import { UsageError } from './errors';

export const REDIS_ENV = 'ONNXFORGE_REDIS_URL';

/** --redis URL (default $ONNXFORGE_REDIS_URL, which keeps a password out of the process list) and --prefix. */
export function addRedisOptions(command: Command): Command {
  return command
    .option('--redis <url>', `Redis URL: redis://[:password@]host[:port][/db], rediss:// for TLS (default $${REDIS_ENV})`)
    .option('--prefix <prefix>', 'key prefix of the cluster in Redis', 'onnxforge');
}

export function redisUrl(opts: { redis?: string }): string {
  const url = opts.redis ?? process.env[REDIS_ENV];
  if (!url) throw new UsageError(`no Redis given: pass --redis URL or set ${REDIS_ENV}`);
  return url;
}

/** "a,b" -> ["a", "b"]. */
export function nameList(value: string): string[] {
  const names = value.split(',').map((v) => v.trim()).filter((v) => v !== '');
  if (names.length === 0) throw new UsageError(`expected comma-separated names, got "${value}"`);
  return names;
}

export function integer(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new UsageError(`expected an integer, got "${value}"`);
  return n;
}
