// Replacing a model and its external data files so that a reader (or a process killed at any point,
// even with SIGKILL) finds either the previous set complete or the new one complete, never a new
// .onnx reading old data or the reverse. Two files cannot be renamed in one step, so the switch goes
// through data files under names no previous model uses:
//   1. the data goes to staged files ".<model>.onnxforge-data-<pid>-<hex>.<i>";
//   2. a model that reads the staged files is renamed over the target (the one atomic switch);
//   3. each staged file is linked under its final name (a rename, so each step is atomic);
//   4. the final model, reading the final names, is renamed over the target;
//   5. the staged names are removed.
// Each state between two steps is the previous set or the new one, complete. A staged file left by a
// killed save is removed by a later save into the folder once no model there reads it.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { assertReplaceable, processAlive, removeEntries, removeStaleTemps, tempPath, writeFully } from './atomic-file';
import { describeError, ModelSaveError } from './errors';
import { saveStep } from './save-step';

const STAGED_NAME = /^\.(.+)\.onnxforge-data-(\d+)-[0-9a-f]+\.\d+$/;

/** Whether the file `model` names `location` anywhere (its bytes hold the name: a conservative "maybe"). */
function mayReference(model: string, location: string): boolean {
  try {
    return fs.readFileSync(model).includes(Buffer.from(location, 'utf8'));
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ENOENT'; // unreadable: keep what it may need
  }
}

/**
 * Remove the staged data files in `dir` that saves killed mid-switch left behind and that the model
 * they were written for does not read. Never throws.
 */
export function removeStaleStagedData(dir: string): string[] {
  return removeEntries(dir, (name) => {
    const match = STAGED_NAME.exec(name);
    if (!match) return false;
    const pid = Number(match[2]);
    return pid !== process.pid && !processAlive(pid) && !mayReference(path.join(dir, match[1]), name);
  });
}

function isPlainFile(file: string): boolean {
  try {
    return fs.lstatSync(file).isFile();
  } catch {
    return false; // gone since the folder was listed
  }
}

function removeQuietly(file: string): void {
  try {
    fs.rmSync(file, { force: true });
  } catch { /* nothing more can be done; the next save's sweep retries */ }
}

function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch { /* some file systems cannot sync a folder; the renames are still atomic */ }
}

/** Put `source`'s content at `target` in one rename, sharing the file where hard links exist. */
function placeAs(source: string, target: string): void {
  const temp = tempPath(target);
  try {
    fs.linkSync(source, temp);
  } catch {
    fs.copyFileSync(source, temp, fs.constants.COPYFILE_FICLONE);
  }
  try {
    fs.renameSync(temp, target);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err;
  }
}

interface StagedData {
  final: string;
  staged: string;
  fd: number | undefined;
}

export class StagedModelSave {
  private readonly dir: string;
  private readonly stagedPrefix: string;
  private readonly data: StagedData[] = [];
  private readonly temps = new Set<string>();
  private switched = false;

  constructor(private readonly target: string) {
    this.dir = path.dirname(target);
    this.stagedPrefix = `.${path.basename(target)}.onnxforge-data-${process.pid}-${randomBytes(4).toString('hex')}`;
    removeStaleTemps(this.dir);
    removeStaleStagedData(this.dir);
  }

  /** Open the staged file for the data file `final` (a path in the model's folder); returns its descriptor. */
  openData(final: string): number {
    assertReplaceable(final);
    const entry: StagedData = { final, staged: path.join(this.dir, `${this.stagedPrefix}.${this.data.length}`), fd: undefined };
    this.data.push(entry);
    entry.fd = fs.openSync(entry.staged, 'wx', 0o644);
    return entry.fd;
  }

  /** The name the switching model reads the data of `final` from (a location in the model's folder). */
  stagedLocation(final: string): string {
    const entry = this.data.find((d) => d.final === final);
    if (!entry) throw new Error(`no staged data file for ${final}`);
    return path.basename(entry.staged);
  }

  /**
   * Make the new set the one on disk. `switching` is the model reading the staged data files (needed
   * when there are data files), `model` the one reading their final names; then remove `oldData` (see oldDataFiles).
   */
  commit(model: Uint8Array, switching: Uint8Array | undefined, oldData: readonly string[] = []): void {
    for (const d of this.data) {
      fs.fsyncSync(d.fd as number);
      fs.closeSync(d.fd as number);
      d.fd = undefined;
      saveStep(`data-written:${path.basename(d.final)}`);
    }
    if (this.data.length === 0) {
      this.replaceModel(model, 'model');
      this.removeOldData(oldData);
      return;
    }
    if (!switching) throw new Error('a model reading the staged data files is needed');
    this.replaceModel(switching, 'switching-model');
    this.switched = true;
    try {
      for (const d of this.data) {
        placeAs(d.staged, d.final);
        saveStep(`data-placed:${path.basename(d.final)}`);
      }
      this.replaceModel(model, 'model');
    } catch (err) {
      throw new ModelSaveError(`the new model is in place and complete, but it still reads its data from ${this.data.map((d) => path.basename(d.staged)).join(', ')}: ${describeError(err)}`, { cause: err });
    }
    for (const d of this.data) {
      fs.rmSync(d.staged, { force: true });
      saveStep(`staged-data-removed:${path.basename(d.final)}`);
    }
    this.removeOldData(oldData);
    removeStaleStagedData(this.dir); // those a killed save left for the model this one replaced
    fsyncDir(this.dir);
  }

  /**
   * Data files left by earlier saves of this model that the new one does not write: named after the
   * model ("<model>.data", "<model>.<tensor>.data"), except `keep` (the files the model is made from).
   * Real paths; commit() removes them once the new model is in place.
   */
  oldDataFiles(keep: readonly string[]): string[] {
    const base = path.basename(this.target);
    const real = (file: string) => {
      try {
        return fs.realpathSync(file);
      } catch {
        return path.resolve(file);
      }
    };
    const skip = new Set([...keep, ...this.data.map((d) => d.final)].map(real));
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return [];
    }
    return names
      .filter((name) => name.startsWith(`${base}.`) && name.endsWith('.data'))
      .map((name) => path.join(this.dir, name))
      .filter((file) => !skip.has(real(file)) && isPlainFile(file));
  }

  private removeOldData(files: readonly string[]): void {
    for (const file of files) {
      removeQuietly(file);
      saveStep(`old-data-removed:${path.basename(file)}`);
    }
  }

  private replaceModel(bytes: Uint8Array, step: string): void {
    const temp = tempPath(this.target);
    this.temps.add(temp);
    const fd = fs.openSync(temp, 'wx', 0o644);
    try {
      writeFully(fd, bytes, 0);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    saveStep(`${step}-written`);
    fs.renameSync(temp, this.target);
    this.temps.delete(temp);
    saveStep(`${step}-renamed`);
  }

  /** Remove what a save that did not reach the switch wrote; never throws. After the switch, the staged files are the model's data and stay. */
  abort(): void {
    for (const d of this.data) {
      try {
        if (d.fd !== undefined) fs.closeSync(d.fd);
      } catch { /* already closed */ }
      d.fd = undefined;
      if (!this.switched) removeQuietly(d.staged);
    }
    for (const temp of this.temps) removeQuietly(temp);
    this.temps.clear();
  }
}
