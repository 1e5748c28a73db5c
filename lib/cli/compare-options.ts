// The options that choose compare inputs and timing, shared by every command that compares
// its result with its input (compare, convert, optimize, prune).
import { Command } from 'commander';
import type { CompareOptions } from '../compare/compare';
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
    .option('--threads <n>', `${prefix}onnxruntime intra-op threads`, positiveInt);
}

export function compareOptionsFrom(flags: CompareFlags, onProgress?: CompareOptions['onProgress']): CompareOptions {
  return {
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
