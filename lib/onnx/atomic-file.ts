// Files written under temporary names in their destination folder and renamed into place only when
// complete, so readers never see half-written output and failures leave nothing behind. A group (a
// model and its external data) is renamed into place in opening order, the model last; when a rename
// fails, the ones before it are undone, so a failed save leaves the previous model and data as they were.
// Temporary files are named ".<target>.onnxforge-tmp-<pid>-<random>", so that the ones a killed
// process left behind can be told apart and removed by the next save into the folder.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelSaveError } from './errors';
import { IO_CHUNK } from './external-data';

interface PendingFile {
  target: string;
  temp: string;
  fd: number | undefined;
}

/** The file a rename replaces, kept under another name until the whole group is in place. */
interface Replaced {
  target: string;
  /** A link to the previous file; undefined when there was none. */
  backup: string | undefined;
  renamed: boolean;
}

function siblingName(target: string, suffix: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.${suffix}`);
}

const TEMP_NAME = /^\..*\.onnxforge-tmp-(\d+)-[0-9a-f]+$/;

/** A temporary name next to `target` that says which process owns it. */
export function tempPath(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.onnxforge-tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Whether process `pid` runs (one of another user's counts as running). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH'; // EPERM: alive, owned by another user
  }
}

/**
 * Remove the temporary files (and folders) in `dir` left by processes that no longer run, such as a
 * save killed with SIGKILL. Those of live processes, this one included, are left alone. Never throws.
 */
export function removeStaleTemps(dir: string): string[] {
  return removeEntries(dir, (name) => {
    const pid = Number(TEMP_NAME.exec(name)?.[1] ?? NaN);
    return Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid);
  });
}

/** Removes the entries of `dir` that `stale` picks and returns their names. Never throws. */
export function removeEntries(dir: string, stale: (name: string) => boolean): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!stale(name)) continue;
    try {
      fs.rmSync(path.join(dir, name), { recursive: true, force: true });
      removed.push(name);
    } catch { /* another save removed it first, or it is not ours to remove */ }
  }
  return removed;
}

/**
 * Throws unless `target` is absent or a regular file (or a symlink to one): a save renames its
 * temporary file over the target, which would replace a device, pipe, socket or folder.
 */
export function assertReplaceable(target: string, shownAs = target): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ELOOP') throw new ModelSaveError(`cannot save to "${shownAs}": it is a symlink loop`);
    throw err;
  }
  if (stat.isFile()) return;
  const kind = stat.isDirectory() ? 'a directory' : stat.isCharacterDevice() ? 'a character device' : stat.isBlockDevice() ? 'a block device'
    : stat.isFIFO() ? 'a named pipe' : stat.isSocket() ? 'a socket' : 'a special file';
  throw new ModelSaveError(`cannot save to "${shownAs}": it is ${kind}, not a regular file; refusing to replace it`);
}

/** Keep the file at `target` reachable under a new name (a hard link where the file system has them). */
function keepPrevious(target: string): string | undefined {
  if (!fs.existsSync(target)) return undefined;
  const backup = siblingName(target, 'bak');
  try {
    fs.linkSync(target, backup);
  } catch {
    fs.copyFileSync(target, backup, fs.constants.COPYFILE_FICLONE);
  }
  return backup;
}

/** Put back what the renames replaced, newest first; never throws, so the error that stopped the commit is the one reported. */
function restore(replaced: Replaced[]): void {
  for (const r of [...replaced].reverse()) {
    try {
      if (!r.renamed) {
        if (r.backup) fs.unlinkSync(r.backup);
      } else if (r.backup) {
        fs.renameSync(r.backup, r.target);
      } else {
        fs.unlinkSync(r.target);
      }
    } catch { /* nothing more can be done; a backup left over still holds the previous file */ }
  }
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
  private readonly swept = new Set<string>();

  /** Open a temporary file next to `target`; returns its descriptor. */
  open(target: string): number {
    assertReplaceable(target);
    const dir = path.dirname(path.resolve(target));
    if (!this.swept.has(dir)) {
      this.swept.add(dir);
      removeStaleTemps(dir);
    }
    const entry: PendingFile = { target, temp: tempPath(target), fd: undefined };
    this.files.push(entry);
    entry.fd = fs.openSync(entry.temp, 'wx', 0o644);
    return entry.fd;
  }

  /**
   * Flush and close every temporary file, then rename them over their targets in opening order. If a
   * rename fails, the files renamed before it are put back as they were (or removed, where there were
   * none) and the error is thrown; abort() then removes the temporary files left.
   */
  commit(): void {
    for (const f of this.files) {
      if (f.fd !== undefined) {
        fs.fsyncSync(f.fd);
        fs.closeSync(f.fd);
        f.fd = undefined;
      }
    }
    const replaced: Replaced[] = [];
    try {
      this.files.forEach((f, i) => {
        // The last rename replaces its target in one step; the ones before it may need undoing.
        const entry: Replaced = { target: f.target, backup: i < this.files.length - 1 ? keepPrevious(f.target) : undefined, renamed: false };
        replaced.push(entry);
        fs.renameSync(f.temp, f.target);
        entry.renamed = true;
      });
    } catch (err) {
      restore(replaced);
      throw err;
    }
    for (const r of replaced) if (r.backup) fs.rmSync(r.backup, { force: true });
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
