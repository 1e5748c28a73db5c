// Addons that are broken in the ways a user's install can be: a file that is not a shared library,
// and a real addon of another onnxforge version (this one's, with the version it carries rewritten).
import * as fs from 'fs';

const TAG = 'onnxforge-version:';

/** Copies `source` as an addon that says it is onnxforge `version` (as long as the real version string). */
export function copyAddonWithVersion(source: string, dest: string, version: string, actual: string): void {
  if (version.length !== actual.length) throw new Error(`version ${version} must be as long as ${actual}`);
  const data = fs.readFileSync(source);
  const tag = Buffer.from(`${TAG}${actual}\0`, 'latin1');
  const at = data.indexOf(tag);
  if (at < 0 || data.indexOf(tag, at + 1) >= 0) throw new Error(`${source} does not carry "${TAG}${actual}" exactly once`);
  Buffer.from(`${TAG}${version}\0`, 'latin1').copy(data, at);
  fs.writeFileSync(dest, data);
}

export function writeCorruptAddon(dest: string): void {
  fs.writeFileSync(dest, Buffer.from('\x7fELF but not really a shared library', 'latin1'));
}
