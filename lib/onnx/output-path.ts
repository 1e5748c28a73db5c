// Passes that read a model file and write another never write over the one they read.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelSaveError } from './errors';

/** Throws when `output` names the file `input` (the same path, or another link to it). */
export function assertNotInput(input: string, output: string): void {
  const resolvedIn = path.resolve(input);
  const resolvedOut = path.resolve(output);
  const sameFile = (): boolean => {
    const [a, b] = [fs.statSync(resolvedIn), fs.statSync(resolvedOut)];
    return a.dev === b.dev && a.ino === b.ino;
  };
  const same = resolvedIn === resolvedOut || (fs.existsSync(resolvedOut) && fs.existsSync(resolvedIn) && sameFile());
  if (same) throw new ModelSaveError(`refusing to write over the input model ${input}; choose another output path`);
}
