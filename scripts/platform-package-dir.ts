// Writes one publishable platform package, <out>/<name>/: package.json (os/cpu/libc so that npm
// installs it only where it runs), the addon and a README line.
import * as fs from 'fs';
import * as path from 'path';
import { platformPackageName, type PlatformTarget } from '../lib/platform-package';

const OS_NAMES: Partial<Record<NodeJS.Platform, string>> = { linux: 'Linux', darwin: 'macOS', win32: 'Windows' };

export interface PlatformPackageSpec {
  target: PlatformTarget;
  /** The built onnxforge.node. */
  binary: string;
  /** The main package's version; the addon carries the same one. */
  version: string;
  nodeEngines: string;
  license: string;
  /** The oldest glibc the addon loads on (glibc targets). */
  glibcFloor?: string;
}

function platformWords({ target, glibcFloor }: PlatformPackageSpec): string {
  const libc = target.libc === 'glibc' ? ` (glibc >= ${glibcFloor})` : target.libc === 'musl' ? ' (musl)' : '';
  return `${OS_NAMES[target.os] ?? target.os} ${target.cpu}${libc}`;
}

/** Writes the package and returns its folder. */
export function writePlatformPackage(out: string, spec: PlatformPackageSpec): string {
  const name = platformPackageName(spec.target);
  const dir = path.join(out, spec.target.name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(spec.binary, path.join(dir, 'onnxforge.node'));
  const manifest = {
    name,
    version: spec.version,
    description: `The prebuilt native addon of onnxforge for ${platformWords(spec)}`,
    license: spec.license,
    main: 'onnxforge.node',
    files: ['onnxforge.node'],
    os: [spec.target.os],
    cpu: [spec.target.cpu],
    ...(spec.target.libc ? { libc: [spec.target.libc] } : {}),
    engines: { node: spec.nodeEngines },
  };
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  fs.writeFileSync(
    path.join(dir, 'README.md'),
    `# ${name}\n\nThe prebuilt native addon of [onnxforge](https://www.npmjs.com/package/onnxforge) ${spec.version} for ` +
      `${platformWords(spec)}. npm installs it with onnxforge, as an optional dependency, on the platform it is for; ` +
      'it is not meant to be used on its own. `npx onnxforge doctor` shows how it was built.\n',
  );
  return dir;
}
