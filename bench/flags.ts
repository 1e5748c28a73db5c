// The flags every bench suite reads: --name=value options, --quick, and where results go: --out=DIR, or
// --write for the committed bench/results; by default a folder in the temp dir, so that a trial run
// never overwrites the committed figures.
import * as os from 'os';
import * as path from 'path';

export interface BenchFlags {
  flag(name: string): string | undefined;
  outDir: string;
  quick: boolean;
}

/** The committed results folder, which only --write updates. */
export const COMMITTED_RESULTS = path.join(__dirname, '../../bench/results');
export const TRIAL_RESULTS = path.join(os.tmpdir(), 'onnxforge-bench-results');

export function resultsDir(args: string[]): string {
  const out = args.find((a) => a.startsWith('--out='))?.slice('--out='.length);
  if (out !== undefined) return path.resolve(out);
  return args.includes('--write') ? path.resolve(COMMITTED_RESULTS) : TRIAL_RESULTS;
}

export function benchFlags(args: string[]): BenchFlags {
  const flag = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  return { flag, outDir: resultsDir(args), quick: args.includes('--quick') };
}
