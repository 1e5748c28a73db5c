// Files written under temporary names in their destination folder and renamed into place only when
// complete, so readers never see half-written output and failures leave nothing behind.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IO_CHUNK } from './external-data';

interface PendingFile {
  target: string;
  temp: string;
  fd: number | undefined;
}

/** Write all of `bytes` at `position`, in chunks below Node's 2 GiB per-call limit. */
export function writeFully(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.byteLength) {
    done += fs.writeSync(fd, bytes, done, Math.min(IO_CHUNK, bytes.byteLength - done), position + done);
  }
}

export class AtomicFileGroup {
  private readonly files: PendingFile[] = [];

  /** Open a temporary file next to `target`; returns its descriptor. */
  open(target: string): number {
    const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    const entry: PendingFile = { target, temp, fd: undefined };
    this.files.push(entry);
    entry.fd = fs.openSync(temp, 'wx', 0o644);
    return entry.fd;
  }

  /** Flush and close every temporary file, then rename them over their targets in opening order. */
  commit(): void {
    for (const f of this.files) {
      if (f.fd !== undefined) {
        fs.fsyncSync(f.fd);
        fs.closeSync(f.fd);
        f.fd = undefined;
      }
    }
    for (const f of this.files) fs.renameSync(f.temp, f.target);
    this.files.length = 0;
  }

  /** Close and delete whatever was written; never throws. */
  abort(): void {
    for (const f of this.files) {
      try {
        if (f.fd !== undefined) fs.closeSync(f.fd);
      } catch { /* already closed */ }
      try {
        fs.unlinkSync(f.temp);
      } catch { /* never created or already renamed */ }
    }
    this.files.length = 0;
  }
}
