// Runs the compiled CLI (npm test compiles dist/ first) as a user would.
import { spawnSync } from 'child_process';
import * as path from 'path';

// From test/helpers under ts-jest, or from dist/test/helpers when a bench suite runs compiled test code.
const ROOT = path.resolve(__dirname, '../..');
export const CLI = path.join(path.basename(ROOT) === 'dist' ? ROOT : path.join(ROOT, 'dist'), 'lib/cli/main.js');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): CliResult {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    cwd,
    timeout: 120000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
