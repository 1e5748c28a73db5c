// What a pass's report says when its result answers far from the original: an output below the cosine
// floor (or, for a one-value output, off by more than a tenth of its scale), or all zeros where the
// original is not. Said as a warning with a hint, next to the figures, not left for the user to spot.
import type { CompareReport } from './compare';

/** Below this cosine an output is called out. */
export const COSINE_FLOOR = 0.99;
/** A one-value output (no cosine) is called out past this relative error. */
export const RELATIVE_FLOOR = 0.1;

export function accuracyWarnings(report: CompareReport | null, hint: string): string[] {
  const warnings: string[] = [];
  for (const o of report?.outputs ?? []) {
    if (o.allZero) {
      warnings.push(`output ${o.name} is all zeros where the original's is not; ${hint}`);
    } else if (o.cosine !== null && o.cosine < COSINE_FLOOR) {
      warnings.push(`output ${o.name} has cosine ${o.cosine.toFixed(4)} against the original (max relative error ${o.maxRelativeError.toExponential(2)}); ${hint}`);
    } else if (o.cosine === null && o.maxRelativeError > RELATIVE_FLOOR) {
      warnings.push(`output ${o.name} (one value) is off by ${(o.maxRelativeError * 100).toFixed(1)}% of the original's; ${hint}`);
    }
  }
  return warnings;
}
