// Where the package lives and what it is called, from lib/ (ts-jest) or dist/lib/ (compiled).
import * as fs from 'fs';
import * as path from 'path';

let root: string | undefined;

export function packageRoot(): string {
  if (root) return root;
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return (root = path.resolve(__dirname, '..'));
    dir = parent;
  }
  return (root = dir);
}

export function packageVersion(): string {
  const json = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return json.version;
}
