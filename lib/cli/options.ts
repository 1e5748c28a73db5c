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

const ENGINE_NAMES = ['ort', 'native', 'auto'] as const;

/** One engine name: ort, native or auto. */
export function engineChoice(value: string): (typeof ENGINE_NAMES)[number] {
  if (!(ENGINE_NAMES as readonly string[]).includes(value)) throw new UsageError(`expected an engine (ort, native or auto), got "${value}"`);
  return value as (typeof ENGINE_NAMES)[number];
}

/** Comma-separated engine names, e.g. ort,native. */
export function engineList(value: string): (typeof ENGINE_NAMES)[number][] {
  return value.split(',').map((v) => engineChoice(v.trim()));
}

/** Collects repeated `--shape NAME=D1,D2,...` (non-negative integers) into a record of whole input shapes. */
export function collectShapes(value: string, previous: Record<string, number[]> = {}): Record<string, number[]> {
  const match = /^(.+)=([^=]+)$/.exec(value);
  const dims = match ? match[2].split(',').map((d) => Number(d.trim())) : [];
  if (!match || dims.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new UsageError(`expected --shape INPUT=D1,D2,... (e.g. input_ids=1,128), got "${value}"`);
  }
  return { ...previous, [match[1]]: dims };
}
