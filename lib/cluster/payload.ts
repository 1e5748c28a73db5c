// Where a job's tensors live: small payloads travel inside the job (base64, saving the round trips
// of a side key), larger ones in a Redis string of raw bytes next to the job, with a TTL so a client
// or worker that dies leaves nothing behind for long. Keys come from the job id, never from job data.
import type Redis from 'ioredis';
import { formatBytes } from '../format-bytes';
import { ExecutionError } from '../runtime/errors';
import { PayloadTooLargeError } from '../serve/codec';

/** How a job's data or return value points at its tensors. */
export interface PayloadRef {
  bytes: number;
  /** base64 of the payload; absent when it is in the side key. */
  inline?: string;
}

export interface PayloadLimits {
  /** Largest payload either way (default 64 MiB); above it a request fails with 413. */
  maxPayloadBytes: number;
  /** Payloads up to this size travel inside the job (default 16 KiB). */
  inlineBytes: number;
  /** Lifetime of a side key (default one day). */
  ttlMs: number;
}

export const DEFAULT_PAYLOAD_LIMITS: PayloadLimits = { maxPayloadBytes: 64 * 1024 * 1024, inlineBytes: 16 * 1024, ttlMs: 24 * 3600 * 1000 };

export function checkPayloadSize(bytes: number, limits: PayloadLimits, what: string): void {
  if (bytes > limits.maxPayloadBytes) {
    throw new PayloadTooLargeError(`${what} ${formatBytes(bytes)}, above the cluster's payload limit of ${formatBytes(limits.maxPayloadBytes)} (maxPayloadBytes)`);
  }
}

/** How `payload` travels: inline when small, otherwise under its side key (storePayload writes it). */
export function payloadRef(payload: Buffer, limits: PayloadLimits, what: string): PayloadRef {
  checkPayloadSize(payload.length, limits, what);
  return payload.length <= limits.inlineBytes ? { bytes: payload.length, inline: payload.toString('base64') } : { bytes: payload.length };
}

/** Writes the side key of a payload that does not travel inline; the command is sent before this returns. */
export async function storePayload(redis: Redis, key: string, payload: Buffer, ref: PayloadRef, limits: PayloadLimits): Promise<void> {
  if (ref.inline === undefined) await redis.set(key, payload, 'PX', limits.ttlMs);
}

/** The payload a ref points at; `take` deletes the side key as it reads it. */
export async function readPayload(redis: Redis, key: string, ref: PayloadRef, take = false): Promise<Buffer> {
  if (ref.inline !== undefined) return Buffer.from(ref.inline, 'base64');
  const payload = take ? await redis.getdelBuffer(key) : await redis.getBuffer(key);
  if (!payload) throw new PayloadMissingError(`the job's tensors are gone from Redis (${key}): expired, deleted by a client that gave up, or lost in a Redis restart`);
  return payload;
}

export class PayloadMissingError extends ExecutionError {}

/** Checks a ref read from job data or a return value. */
export function isPayloadRef(value: unknown): value is PayloadRef {
  const ref = value as PayloadRef | null;
  return typeof ref === 'object' && ref !== null && Number.isSafeInteger(ref.bytes) && ref.bytes >= 0
    && (ref.inline === undefined || typeof ref.inline === 'string');
}
