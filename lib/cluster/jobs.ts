// What a job carries and what it returns, checked on arrival: a worker trusts nothing in a job's data.
import { z } from 'zod';
import { InvalidRequestError } from '../runtime/errors';
import { isPayloadRef, type PayloadRef } from './payload';

/** 'infer': one request. 'chunk': samples of a batch, each inferred on its own (the runtime batches them). */
export type JobKind = 'infer' | 'chunk';

const payloadRef = z.custom<PayloadRef>(isPayloadRef, { message: 'expected a payload reference' });
const names = z.array(z.string().min(1).max(256)).max(65536);

const jobDataSchema = z.strictObject({
  model: z.string(),
  version: z.number().int().positive().optional(),
  outputs: names.optional(),
  /** The runtime's priority inside a worker (larger first), as the request gave it. */
  priority: z.number().int().optional(),
  /** The runtime's queue timeout inside the worker; 0: none. */
  timeoutMs: z.number().int().nonnegative().optional(),
  /** Sample names of a chunk, for the batch that wrote it; never used as paths by a worker. */
  samples: names.optional(),
  input: payloadRef,
});

export type JobData = z.infer<typeof jobDataSchema>;

const jobResultSchema = z.strictObject({
  output: payloadRef,
  /** The model version the worker ran. */
  version: z.number().int().positive(),
  /** Milliseconds the worker spent on the job (reading inputs, inference, storing outputs). */
  runMs: z.number().nonnegative(),
  worker: z.string(),
  /** Times the job was started: more than 1 after a stalled or handed-back run. */
  attempts: z.number().int().nonnegative(),
});

export type JobResult = z.infer<typeof jobResultSchema>;

export function parseJobData(data: unknown, kind: string): JobData {
  if (kind !== 'infer' && kind !== 'chunk') throw new InvalidRequestError(`malformed job: unknown job name "${String(kind).slice(0, 64)}"`);
  const parsed = jobDataSchema.safeParse(data);
  if (!parsed.success) throw new InvalidRequestError(`malformed job: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'data'}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

export function parseJobResult(value: unknown): JobResult {
  const parsed = jobResultSchema.safeParse(value);
  if (!parsed.success) throw new InvalidRequestError(`malformed job result: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return parsed.data;
}

/** BullMQ runs priority 1 first and 0 (no priority) before all; requests rank larger first. */
const PRIORITY_ZERO = 1 << 20;

export function bullPriority(priority: number): number {
  if (!Number.isInteger(priority) || Math.abs(priority) >= PRIORITY_ZERO) {
    throw new InvalidRequestError(`priority must be an integer between ${-(PRIORITY_ZERO - 1)} and ${PRIORITY_ZERO - 1}, got ${priority}`);
  }
  return PRIORITY_ZERO - priority;
}
