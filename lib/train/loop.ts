// The training loop shared by distill and train: batches from the sampler, targets from the caller
// (teacher outputs, labels), the learning-rate schedule, progress, checkpoints, and a clean stop on abort.
import type * as ort from 'onnxruntime-node';
import { saveCheckpoint } from './checkpoint';
import type { BatchSampler } from './sampler';
import { learningRateAt, type Schedule } from './schedule';
import type { TrainingSession } from './training-session';

export interface TrainingProgress {
  step: number;
  steps: number;
  loss: number;
  samplesPerSecond: number;
  etaSeconds: number;
}

export interface LoopOptions {
  schedule: Schedule;
  /** Steps already done (a resumed run starts there). */
  startStep: number;
  /** Where checkpoints go: every `every` steps and at the end when `every` is set, and always when stopped. */
  checkpoint?: { path: string; every?: number };
  onProgress?: (p: TrainingProgress) => void;
  /** Aborting stops after the current step (with a checkpoint when one is configured). */
  signal?: AbortSignal;
}

export interface LoopResult {
  /** Loss of each step run here. */
  losses: number[];
  /** Milliseconds of each training step's run (the teacher's forward pass and data excluded). */
  stepMs: number[];
  totalMs: number;
  /** Steps done when the loop ended. */
  stepsDone: number;
  interrupted: boolean;
}

export async function runSteps(session: TrainingSession, sampler: BatchSampler,
  feedsFor: (indices: number[]) => Promise<Record<string, ort.Tensor>>, o: LoopOptions): Promise<LoopResult> {
  const total = o.schedule.total;
  const result: LoopResult = { losses: [], stepMs: [], totalMs: 0, stepsDone: o.startStep, interrupted: false };
  const save = (): void => {
    if (o.checkpoint) saveCheckpoint(o.checkpoint.path, result.stepsDone, session.graph.carried, session.values());
  };
  const start = process.hrtime.bigint();
  for (let step = o.startStep; step < total; step++) {
    if (o.signal?.aborted) {
      result.interrupted = true;
      break;
    }
    const feeds = await feedsFor(sampler.indices(step));
    const t0 = process.hrtime.bigint();
    const { loss } = await session.step(feeds, learningRateAt(o.schedule, step), step + 1);
    result.stepMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    result.losses.push(loss);
    result.stepsDone = step + 1;
    if (!Number.isFinite(loss)) throw new Error(`the loss became ${loss} at step ${step + 1}; lower the learning rate (or clip gradients)`);
    if (o.checkpoint?.every && result.stepsDone % o.checkpoint.every === 0) save();
    const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
    const done = result.stepsDone - o.startStep;
    o.onProgress?.({
      step: result.stepsDone, steps: total, loss,
      samplesPerSecond: (done * sampler.batch) / elapsed,
      etaSeconds: (elapsed / done) * (total - result.stepsDone),
    });
  }
  if (result.interrupted || (o.checkpoint?.every && result.stepsDone % o.checkpoint.every !== 0)) save();
  result.totalMs = Number(process.hrtime.bigint() - start) / 1e6;
  return result;
}
