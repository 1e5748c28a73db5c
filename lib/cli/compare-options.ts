// The options that choose compare inputs and timing, shared by every command that compares
// its result with its input (compare, convert, optimize, prune).
import { Command } from 'commander';
import type { CompareOptions } from '../compare/compare';
import { UsageError } from './errors';
import { collectNumberPairs, collectShapes, nonNegativeInt, positiveInt } from './options';

export interface CompareFlags {
  inputs?: string;
  samples: number;
  seed: number;
  dim: Record<string, number>;
  shape: Record<string, number[]>;
  value: Record<string, number>;
  runs: number;
  threads?: number;
  eval?: string;
  evalLabels?: string;
  evalOutput?: string;
}

/** Adds --inputs, --samples, --seed, --dim, --shape, --value, --runs, --threads; `prefix` starts each help line. */
export function addCompareOptions(command: Command, { prefix = '', runs = 10 }: { prefix?: string; runs?: number } = {}): Command {
  return command
    .option('--inputs <dir>', `${prefix}one folder per sample, each with <input>.npy or input_<i>.pb per model input`)
    .option('--samples <n>', `${prefix}generated samples when --inputs is not given`, positiveInt, 4)
    .option('--seed <n>', `${prefix}seed for generated inputs`, nonNegativeInt, 0)
    .option('--dim <name=value>', `${prefix}value of a symbolic dim for generated inputs (repeatable)`, collectNumberPairs, {})
    .option('--shape <input=d1,d2,...>', `${prefix}whole shape of a generated input, unnamed dims included (repeatable)`, collectShapes, {})
    .option('--value <name=value>', `${prefix}fill a generated input with a constant, e.g. sr=16000 (repeatable)`, collectNumberPairs, {})
    .option('--runs <n>', `${prefix}timed runs per model for latency (0 skips)`, nonNegativeInt, runs)
    .option('--threads <n>', `${prefix}onnxruntime intra-op threads`, positiveInt)
    .option('--eval <dir>', `${prefix}labelled samples (same layout as --calibration): report top-1 accuracy of both models; needs --eval-labels`)
    .option('--eval-labels <file>', `${prefix}labels.npy: int64 class indices, one per output row of the --eval samples in name order`)
    .option('--eval-output <name>', `${prefix}the output scored against the labels (default: the first with a class axis)`);
}

/** --eval and --eval-labels, checked to come together. */
export function evalDataFrom(flags: { eval?: string; evalLabels?: string; evalOutput?: string }): CompareOptions['eval'] {
  if ((flags.eval === undefined) !== (flags.evalLabels === undefined)) throw new UsageError('--eval and --eval-labels go together');
  return flags.eval !== undefined && flags.evalLabels !== undefined ? { dir: flags.eval, labels: flags.evalLabels, output: flags.evalOutput } : undefined;
}

export function compareOptionsFrom(flags: CompareFlags, onProgress?: CompareOptions['onProgress']): CompareOptions {
  return {
    eval: evalDataFrom(flags),
    inputsDir: flags.inputs,
    sampleCount: flags.samples,
    seed: flags.seed,
    dims: flags.dim,
    shapes: flags.shape,
    values: flags.value,
    latencyRuns: flags.runs,
    engine: { threads: flags.threads },
    onProgress,
  };
}
