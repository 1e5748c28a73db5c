// Options shared by train() and distill(), with their defaults and checks.
import type { OptimizerKind, OptimizerOptions } from './optimizer';
import type { ScheduleKind } from './schedule';
import type { TrainingProgress } from './loop';

export interface TrainOptions {
  /** Optimizer steps; or `epochs` passes over the data (default 3 epochs). */
  steps?: number;
  epochs?: number;
  /** Samples per step (default 32, or the model's fixed batch size). */
  batch?: number;
  /** Peak learning rate (default 1e-3 for AdamW, 1e-2 for SGD). */
  learningRate?: number;
  optimizer?: OptimizerKind;
  /** Decoupled weight decay of weights (default 0.01 for AdamW, 0 for SGD). */
  weightDecay?: number;
  /** SGD momentum (default 0.9). */
  momentum?: number;
  /** Warm-up steps (default 5% of the steps). */
  warmup?: number;
  /** Decay after warm-up (default linear). */
  schedule?: ScheduleKind;
  /** Largest global gradient norm (default 1; 0 turns clipping off). */
  clip?: number;
  /** Seed of the batch order and of new weights (default 0). */
  seed?: number;
  /** onnxruntime intra-op threads (default: onnxruntime's). */
  threads?: number;
  /** Initializers kept as they are: globs on their names (e.g. "*embeddings*"). */
  freeze?: string[];
  /** Checkpoint file: written when stopped, and with `checkpointEvery` every so many steps and at the end. */
  checkpoint?: string;
  checkpointEvery?: number;
  /** Checkpoint to continue from (same student, data and options). */
  resume?: string;
  onProgress?: (p: TrainingProgress) => void;
  /** Stops after the current step, leaving a checkpoint when one is configured. */
  signal?: AbortSignal;
}

export interface ResolvedTrainOptions {
  steps: number;
  batch: number;
  learningRate: number;
  warmup: number;
  schedule: ScheduleKind;
  seed: number;
  optimizer: OptimizerOptions;
  freeze: RegExp[];
}

function check(value: number, name: string, ok: (v: number) => boolean, want: string): number {
  if (!ok(value)) throw new RangeError(`${name} must be ${want}, not ${value}`);
  return value;
}

const positiveInt = (v: number) => Number.isSafeInteger(v) && v > 0;
const nonNegative = (v: number) => Number.isFinite(v) && v >= 0;

export function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

export function resolveTrainOptions(o: TrainOptions, samples: number, fixedBatch: number | undefined): ResolvedTrainOptions {
  const batch = check(o.batch ?? fixedBatch ?? Math.min(32, samples), 'batch', positiveInt, 'a positive integer');
  if (fixedBatch !== undefined && batch !== fixedBatch) throw new RangeError(`the model's batch dimension is fixed at ${fixedBatch}; batch ${batch} cannot run`);
  if (batch > samples) throw new RangeError(`batch ${batch} is larger than the ${samples} training samples`);
  if (o.steps !== undefined && o.epochs !== undefined) throw new RangeError('give steps or epochs, not both');
  const perEpoch = Math.floor(samples / batch);
  const steps = o.steps !== undefined
    ? check(o.steps, 'steps', positiveInt, 'a positive integer')
    : Math.max(1, Math.ceil(check(o.epochs ?? 3, 'epochs', (v) => v > 0, 'positive') * perEpoch));
  const kind = o.optimizer ?? 'adamw';
  if (kind !== 'adamw' && kind !== 'sgd') throw new RangeError(`optimizer must be adamw or sgd, not ${String(kind)}`);
  const learningRate = check(o.learningRate ?? (kind === 'adamw' ? 1e-3 : 1e-2), 'learning rate', (v) => v > 0 && Number.isFinite(v), 'positive');
  const schedule = o.schedule ?? 'linear';
  if (!['linear', 'cosine', 'constant'].includes(schedule)) throw new RangeError(`schedule must be linear, cosine or constant, not ${schedule}`);
  return {
    steps,
    batch,
    learningRate,
    warmup: check(o.warmup ?? Math.round(steps * 0.05), 'warmup', (v) => Number.isSafeInteger(v) && v >= 0, 'a non-negative integer'),
    schedule,
    seed: check(o.seed ?? 0, 'seed', (v) => Number.isSafeInteger(v) && v >= 0, 'a non-negative integer'),
    optimizer: {
      kind,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-8,
      weightDecay: check(o.weightDecay ?? (kind === 'adamw' ? 0.01 : 0), 'weight decay', nonNegative, 'non-negative'),
      momentum: check(o.momentum ?? 0.9, 'momentum', (v) => v >= 0 && v < 1, 'in [0, 1)'),
      clip: check(o.clip ?? 1, 'clip', nonNegative, 'non-negative'),
    },
    freeze: (o.freeze ?? []).map(globToRegExp),
  };
}
