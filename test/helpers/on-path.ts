import * as fs from 'fs';
import * as path from 'path';

/** Where a program is on PATH (or on `searchPath`), or undefined. */
export function onPath(tool: string, searchPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    const file = path.join(dir, tool);
    if (dir && fs.existsSync(file)) return file;
  }
  return undefined;
}
