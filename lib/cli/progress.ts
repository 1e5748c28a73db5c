// A progress bar on stderr, drawn only when stderr is a terminal.

export interface Progress {
  /** `detail` (e.g. loss and speed) follows the count. */
  update(done: number, total: number, detail?: string): void;
  finish(): void;
}

export function createProgress(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { update() {}, finish() {} };
  let drawn = false;
  return {
    update(done, total, detail) {
      const width = 30;
      const filled = total > 0 ? Math.round((done / total) * width) : 0;
      stream.write(`\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}${detail ? ` ${detail}\x1b[K` : ''}`);
      drawn = true;
    },
    finish() {
      if (drawn) stream.write('\n');
    },
  };
}
