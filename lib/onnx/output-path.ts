// Passes that read a model file and write another never write over any file they read: the model
// file itself or one of its external data files.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelSaveError } from './errors';

/** The same path, or (both existing) the same file on disk: symlinks and hard links to it count. */
function sameFile(a: string, b: string): boolean {
  if (path.resolve(a) === path.resolve(b)) return true;
  try {
    const [sa, sb] = [fs.statSync(a), fs.statSync(b)];
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false; // one of them does not exist, so writing one cannot touch the other
  }
}

/**
 * Throws, naming both paths, when any of `outputs` names any of `inputs` (the files a model was read
 * from: see modelFiles), by whatever path.
 */
export function assertNotInput(inputs: string | readonly string[], outputs: string | readonly string[]): void {
  for (const output of typeof outputs === 'string' ? [outputs] : outputs) {
    for (const input of typeof inputs === 'string' ? [inputs] : inputs) {
      if (!sameFile(input, output)) continue;
      const alias = path.resolve(input) === path.resolve(output) ? '' : ` (the output ${output} is the same file)`;
      throw new ModelSaveError(`refusing to write over the input model's file ${input}${alias}; choose another output path`);
    }
  }
}
