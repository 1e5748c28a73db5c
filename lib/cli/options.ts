// Option parsers shared by commands.
import { UsageError } from './errors';

/** Collects repeated `--opt NAME=NUMBER` into a record. */
export function collectNumberPairs(value: string, previous: Record<string, number> = {}): Record<string, number> {
  const match = /^([^=]+)=(.+)$/.exec(value);
  const number = match ? Number(match[2]) : NaN;
  if (!match || !Number.isFinite(number)) throw new UsageError(`expected NAME=NUMBER, got "${value}"`);
  return { ...previous, [match[1]]: number };
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`expected a positive integer, got "${value}"`);
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`expected a non-negative integer, got "${value}"`);
  return n;
}
