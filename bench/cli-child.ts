// The compiled CLI in its own process (so a load generator does not share its event loop), resolved
// once the command has printed its ready line: the first complete JSON document on stdout.
import { ChildProcess, spawn } from 'child_process';
import * as path from 'path';

const CLI = path.join(__dirname, '../lib/cli/main.js');

export function startCliJson<T>(args: string[], env: NodeJS.ProcessEnv = process.env, cli = CLI): Promise<{ child: ChildProcess; ready: T }> {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      try {
        resolve({ child, ready: JSON.parse(out) as T });
      } catch {
        // The JSON is not complete yet.
      }
    });
    child.once('exit', (code) => reject(new Error(`onnxforge ${args[0]} exited (code ${code}): ${err.trim()}`)));
  });
}
