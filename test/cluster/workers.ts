// Worker processes for cluster tests: `onnxforge worker` as a user starts it, one OS process each.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import { CLI } from '../helpers/cli';
import { smallMlp, writeModel, type FixtureModel } from '../runtime/fixtures';

/** Settings that let a test see a dead worker's jobs recovered within a second or two. */
export const FAST_RECOVERY = ['--lock-duration', '1000', '--stalled-interval', '500'];

/** A config whose single-row requests wait in the batcher (preferred size 64, ten minutes' delay): a worker holding them is mid-job until it dies. */
export const STUCK_CONFIG = { max_batch_size: 64, dynamic_batching: { preferred_batch_size: [64], max_queue_delay_ms: 600000 }, queue: { timeout_ms: 0 } };

// onnxruntime pinned: the tests compare the cluster's answers with onnxruntime in-process, bit for bit.
export const FAST_CONFIG = { engine: 'ort', max_batch_size: 64, dynamic_batching: { max_queue_delay_ms: 0 } };

/** A repository of one model, `name`, with `config`; the same weights whatever the config (seed). */
export function repositoryWith(root: string, name: string, config: object, seed = 5): string {
  const model: FixtureModel = { config: config as Record<string, unknown>, versions: { 1: smallMlp(seed) } };
  fs.mkdirSync(root, { recursive: true });
  writeModel(root, name, model);
  return root;
}

export interface WorkerProcess {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr(): string;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/** Starts `onnxforge worker` (with `env` added to this process's) and resolves once it printed its ready message. */
export function startWorker(redis: string, repo: string, name: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [CLI, 'worker', '--redis', redis, '--repo', repo, '--name', name, '--json', ...extra], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const worker: WorkerProcess = {
    name, child, exited,
    stderr: () => stderr,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      try {
        JSON.parse(stdout);
        resolve(worker);
      } catch {
        // The ready message is not complete yet.
      }
    });
    void exited.then((code) => reject(new Error(`worker ${name} exited with ${code} before it was ready: ${stderr}`)));
  });
}
