// Runs `onnxforge serve --grpc-port 0` from dist/ as a child process, as a user would, and reads
// the addresses it bound from its --json ready message.
import { ChildProcess, spawn } from 'child_process';
import { CLI } from '../helpers/cli';

export interface ServeProcess {
  url: string;
  /** host:port of the gRPC endpoint. */
  grpc: string;
  stderr(): string;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export function startServe(repo: string, extra: string[] = []): Promise<ServeProcess> {
  const child: ChildProcess = spawn(process.execPath, [CLI, 'serve', repo, '--port', '0', '--grpc-port', '0', '--json', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      let ready: { url: string; grpc: string };
      try {
        ready = JSON.parse(stdout);
      } catch {
        return;  // not the whole message yet
      }
      resolve({
        url: ready.url,
        grpc: ready.grpc,
        stderr: () => stderr,
        stop: () => {
          child.kill('SIGTERM');
          return exited;
        },
      });
    });
    void exited.then((code) => reject(new Error(`onnxforge serve exited (${code}) before it was ready: ${stderr}`)));
  });
}
