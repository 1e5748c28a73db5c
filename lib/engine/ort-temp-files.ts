// onnxruntime-node (1.30) creates "mat-debug-<pid>.log", empty, in the temp dir the first time any
// session is created, and never removes it: one file per process that ever ran a model. We remove our
// own process's file at exit when it is still empty. (It also keeps one shared ".ses" file there, which
// later processes reuse; that one stays.)
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

let registered = false;

/** The log file onnxruntime leaves for this process. */
export function ortDebugLogPath(pid = process.pid): string {
  return path.join(os.tmpdir(), `mat-debug-${pid}.log`);
}

function removeEmptyDebugLog(): void {
  const file = ortDebugLogPath();
  try {
    if (fs.statSync(file).size === 0) fs.unlinkSync(file);
  } catch { /* never created, or already gone */ }
}

/** Remove this process's empty onnxruntime debug log when the process exits (once per process). */
export function cleanUpOrtTempFilesAtExit(): void {
  if (registered) return;
  registered = true;
  process.on('exit', removeEmptyDebugLog);
}
