// config.json of one model in the repository: schema (zod), defaults and clear errors.
import { z } from 'zod';
import type { EngineChoice } from '../engine/select';
import { isKserveDatatype, KSERVE_DATATYPES, KserveDatatype } from './datatypes';

/** Where a model's instances run (model-instance.ts). */
export const ISOLATIONS = ['none', 'thread', 'process'] as const;
export type Isolation = (typeof ISOLATIONS)[number];

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();

const tensorSpecSchema = z.strictObject({
  name: z.string().min(1),
  datatype: z.string().refine(isKserveDatatype, { message: `expected one of ${KSERVE_DATATYPES.join(', ')}` }),
  /** Full shape including the batch dim; -1 for a dim of any size. */
  dims: z.array(z.number().int().min(-1)),
});

const warmupInputSchema = z.strictObject({
  dims: z.array(nonNegativeInt),
  data: z.array(z.union([z.number(), z.boolean(), z.string()])),
});

const versionPolicySchema = z.union([
  z.strictObject({ latest: positiveInt }),
  z.strictObject({ all: z.literal(true) }),
  z.strictObject({ specific: z.array(positiveInt).min(1) }),
], { message: 'expected {"latest": N}, {"all": true} or {"specific": [N, ...]}' });

const configSchema = z
  .strictObject({
    name: z.string().min(1).optional(),
    // Unset: the server's default (onnxforge serve --engine, itself 'auto' by default).
    engine: z.enum(['native', 'ort', 'auto'], { message: 'expected "native", "ort" or "auto"' }).optional(),
    max_batch_size: nonNegativeInt.default(0),
    inputs: z.array(tensorSpecSchema).optional(),
    outputs: z.array(tensorSpecSchema).optional(),
    dynamic_batching: z
      .strictObject({
        preferred_batch_size: z.array(positiveInt).optional(),
        max_queue_delay_ms: z.number().nonnegative().default(0),
        padding: z
          .strictObject({
            dims: z.array(z.string().min(1)).min(1),
            values: z.record(z.string(), z.number()).optional(),
          })
          .optional(),
      })
      .optional(),
    instances: z
      .strictObject({
        count: positiveInt.default(1),
        device: z.enum(['cpu', 'cuda']).default('cpu'),
        max_inflight: positiveInt.default(1),
      })
      .default({ count: 1, device: 'cpu', max_inflight: 1 }),
    threads: positiveInt.optional(),
    preload: z.enum(['eager', 'lazy']).default('eager'),
    pinned: z.boolean().default(false),
    idle_unload_ms: nonNegativeInt.optional(),
    memory_bytes: positiveInt.optional(),
    // Unset: the server's default (onnxforge serve --isolation, itself 'thread' by default).
    isolation: z.enum(ISOLATIONS, { message: 'expected "none", "thread" or "process"' }).optional(),
    max_request_memory_bytes: positiveInt.optional(),
    max_batch_memory_bytes: positiveInt.optional(),
    memory_arena: z.boolean().default(false),
    queue: z
      .strictObject({
        max_size: positiveInt.default(1024),
        timeout_ms: nonNegativeInt.default(30000),
        default_priority: z.number().int().default(0),
      })
      .default({ max_size: 1024, timeout_ms: 30000, default_priority: 0 }),
    warmup: z
      .strictObject({
        samples: nonNegativeInt.default(1),
        batch_sizes: z.array(positiveInt).optional(),
        dims: z.record(z.string(), positiveInt).optional(),
        values: z.record(z.string(), z.number()).optional(),
        inputs: z.record(z.string(), warmupInputSchema).optional(),
      })
      .optional(),
    version_policy: versionPolicySchema.default({ latest: 1 }),
  })
  .superRefine((c, ctx) => {
    const batching = c.dynamic_batching;
    if (batching && c.max_batch_size === 0) {
      ctx.addIssue({ code: 'custom', path: ['dynamic_batching'], message: 'needs max_batch_size > 0' });
    }
    batching?.preferred_batch_size?.forEach((size, i) => {
      if (size > c.max_batch_size) {
        ctx.addIssue({ code: 'custom', path: ['dynamic_batching', 'preferred_batch_size', i], message: `${size} exceeds max_batch_size (${c.max_batch_size})` });
      }
    });
    if (c.engine === 'native' && c.instances.device === 'cuda') {
      ctx.addIssue({ code: 'custom', path: ['engine'], message: 'the native engine runs on the CPU; use "ort" or "auto" with device "cuda"' });
    }
    c.warmup?.batch_sizes?.forEach((size, i) => {
      if (size > Math.max(1, c.max_batch_size)) {
        ctx.addIssue({ code: 'custom', path: ['warmup', 'batch_sizes', i], message: `${size} exceeds max_batch_size (${c.max_batch_size})` });
      }
    });
  });

export interface TensorSpec {
  name: string;
  datatype: KserveDatatype;
  dims: number[];
}

export interface WarmupInput {
  dims: number[];
  data: (number | boolean | string)[];
}

export type VersionPolicy = { latest: number } | { all: true } | { specific: number[] };

export interface ModelConfig {
  name?: string;
  /** Which engine runs the model; undefined: the runtime's default. */
  engine?: EngineChoice;
  /** 0: the model takes whole tensors and requests are never merged. */
  maxBatchSize: number;
  inputs?: TensorSpec[];
  outputs?: TensorSpec[];
  /** padding: symbolic input dims requests may differ in, padded to the batch's largest (values: pad value per input, default 0). */
  dynamicBatching?: { preferredBatchSizes: number[]; maxQueueDelayMs: number; padding?: { dims: string[]; values: Record<string, number> } };
  /** maxInflight: batches sent to one instance before it answers (1: the next batch forms while it runs). */
  instances: { count: number; device: 'cpu' | 'cuda'; maxInflight: number };
  threads?: number;
  preload: 'eager' | 'lazy';
  pinned: boolean;
  idleUnloadMs?: number;
  memoryBytes?: number;
  /** Where instances run ('none': the server's thread, 'thread': a worker thread each, 'process': a child process each, restarted when it dies); undefined: the runtime's default. */
  isolation?: Isolation;
  /** Largest estimated activation memory of one request (default: the server's --max-request-memory). */
  maxRequestMemoryBytes?: number;
  /** Largest sum of the estimates of requests admitted at once (default: max_request_memory_bytes x instances). */
  maxBatchMemoryBytes?: number;
  /** onnxruntime's CPU memory arena: off by default so memory a large request took goes back to the system. */
  memoryArena: boolean;
  queue: { maxSize: number; timeoutMs: number; defaultPriority: number };
  warmup: {
    samples: number;
    batchSizes: number[];
    dims: Record<string, number>;
    values: Record<string, number>;
    inputs?: Record<string, WarmupInput>;
  };
  versionPolicy: VersionPolicy;
}

export class ModelConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelConfigError';
  }
}

function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const where = issue.path.length ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') : '(top level)';
      return `${where}: ${issue.message}`;
    })
    .join('; ');
}

/** Validates parsed JSON; `source` names the file in error messages. */
export function parseModelConfig(json: unknown, source: string): ModelConfig {
  const result = configSchema.safeParse(json ?? {});
  if (!result.success) throw new ModelConfigError(`${source}: ${formatIssues(result.error.issues)}`);
  const c = result.data;
  return {
    name: c.name,
    engine: c.engine,
    maxBatchSize: c.max_batch_size,
    inputs: c.inputs as TensorSpec[] | undefined,
    outputs: c.outputs as TensorSpec[] | undefined,
    dynamicBatching: c.dynamic_batching && {
      preferredBatchSizes: [...(c.dynamic_batching.preferred_batch_size ?? [])].sort((a, b) => a - b),
      maxQueueDelayMs: c.dynamic_batching.max_queue_delay_ms,
      padding: c.dynamic_batching.padding && { dims: c.dynamic_batching.padding.dims, values: c.dynamic_batching.padding.values ?? {} },
    },
    instances: { count: c.instances.count, device: c.instances.device, maxInflight: c.instances.max_inflight },
    threads: c.threads,
    preload: c.preload,
    pinned: c.pinned,
    idleUnloadMs: c.idle_unload_ms,
    memoryBytes: c.memory_bytes,
    isolation: c.isolation,
    maxRequestMemoryBytes: c.max_request_memory_bytes,
    maxBatchMemoryBytes: c.max_batch_memory_bytes,
    memoryArena: c.memory_arena,
    queue: { maxSize: c.queue.max_size, timeoutMs: c.queue.timeout_ms, defaultPriority: c.queue.default_priority },
    warmup: {
      samples: c.warmup?.samples ?? 1,
      batchSizes: c.warmup?.batch_sizes ?? [1],
      dims: c.warmup?.dims ?? {},
      values: c.warmup?.values ?? {},
      inputs: c.warmup?.inputs,
    },
    versionPolicy: c.version_policy,
  };
}

/** Parses config.json text (a missing file is an empty config: all defaults). */
export function parseModelConfigText(text: string | undefined, source: string): ModelConfig {
  if (text === undefined) return parseModelConfig({}, source);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ModelConfigError(`${source}: not valid JSON (${(err as Error).message})`);
  }
  return parseModelConfig(json, source);
}
