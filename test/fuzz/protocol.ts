// What the fuzz worker reports and how much of the corpus each mode runs: CI runs the slice every
// time (well under two minutes); ONNXFORGE_FUZZ=full runs every case.

export type FuzzMode = 'slice' | 'full';

export interface CaseOutcome {
  outcome: 'ok' | 'error' | 'crash' | 'hang' | 'exit';
  /** Where a model case stopped: load, inspect, save, onnxruntime, native engine; 'call' for the addon. */
  stage?: string;
  errorName?: string;
  message?: string;
  /** Files the case left that it did not mean to write. */
  leftovers?: string[];
}

export interface CaseResult extends CaseOutcome {
  i: number;
  id: string;
}

export function fuzzMode(): FuzzMode {
  return process.env.ONNXFORGE_FUZZ === 'full' ? 'full' : 'slice';
}

export function caseCounts(mode: FuzzMode): { seedsPerMutation: number; addonEvery: number; cliEvery: number } {
  return mode === 'full' ? { seedsPerMutation: 8, addonEvery: 1, cliEvery: 1 } : { seedsPerMutation: 1, addonEvery: 4, cliEvery: 8 };
}

/** Every `every`-th item, starting with the first: a slice that still reaches every group of the corpus. */
export function sliceOf<T>(items: readonly T[], every: number): T[] {
  return items.filter((_, i) => i % every === 0);
}

// Messages that betray a bug in our code rather than an error it meant to raise.
const INTERNAL_BUG = /Cannot read properties of|is not a function|is not iterable|Maximum call stack|Invalid array length|undefined is not|Cannot convert a BigInt|Do not know how to serialize/;

/** Why an outcome is not "a clear error or success"; undefined when it is. */
export function problemWith(r: CaseOutcome): string | undefined {
  if (r.outcome === 'crash' || r.outcome === 'hang' || r.outcome === 'exit') return r.outcome;
  if (r.leftovers) return `left files behind: ${r.leftovers.join(', ')}`;
  if (r.outcome === 'error') {
    const message = (r.message ?? '').trim();
    if (message === '') return `${r.errorName} without a message`;
    if (INTERNAL_BUG.test(message)) return `an internal error: ${r.errorName}: ${message.split('\n')[0]}`;
  }
  return undefined;
}
