// `onnxforge bench --suite NAME`: the repository's bench suites (bench/*.ts, compiled to dist/bench),
// run as `npm run bench -- NAME` runs them. They ship only in a clone, not in the npm package.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from './errors';

/** dist/bench/main.js, next to dist/lib. */
const SUITES_MAIN = path.resolve(__dirname, '../../bench/main.js');

/** Runs the named suites (comma-separated) in a child process; resolves with its exit code. */
export function runBenchSuites(names: string, options: { write?: boolean; quick?: boolean }): Promise<number> {
  if (!fs.existsSync(SUITES_MAIN)) {
    throw new UsageError('the bench suites ship only in a clone of the onnxforge repository (run `npm run build:ts` there); to time your own model: onnxforge bench MODEL');
  }
  const suites = names.split(',').map((s) => s.trim()).filter(Boolean);
  if (suites.length === 0) throw new UsageError('--suite needs a suite name, e.g. --suite engine');
  const args = [SUITES_MAIN, ...suites, ...(options.write ? ['--write'] : []), ...(options.quick ? ['--quick'] : [])];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}
