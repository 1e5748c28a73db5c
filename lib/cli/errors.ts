// Failure handling shared by all commands: a one-line reason and exit code 1.

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function reportFailure(err: unknown, verbose: boolean): void {
  const error = err instanceof Error ? err : new Error(String(err));
  const firstLine = error.message.split('\n')[0];
  process.stderr.write(`onnxforge: ${firstLine}\n`);
  if (verbose && error.stack) process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
}
