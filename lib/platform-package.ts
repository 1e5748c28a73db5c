// The prebuilt addon ships in one npm package per platform, @onnxforge/<name> (written to npm/<name>/
// by `npm run prebuild`), each with os/cpu/libc fields so that npm installs only the one that
// matches; the published main package lists them all as optionalDependencies.
import * as fs from 'fs';

export type Libc = 'glibc' | 'musl';

export interface PlatformTarget {
  /** The package's name in the scope and its folder under npm/, e.g. 'linux-x64-gnu'. */
  name: string;
  os: NodeJS.Platform;
  cpu: NodeJS.Architecture;
  libc?: Libc;
}

export const PLATFORM_SCOPE = '@onnxforge';

export const PLATFORM_TARGETS: readonly PlatformTarget[] = [
  { name: 'linux-x64-gnu', os: 'linux', cpu: 'x64', libc: 'glibc' },
  { name: 'linux-x64-musl', os: 'linux', cpu: 'x64', libc: 'musl' },
  { name: 'linux-arm64-gnu', os: 'linux', cpu: 'arm64', libc: 'glibc' },
  { name: 'linux-arm64-musl', os: 'linux', cpu: 'arm64', libc: 'musl' },
  { name: 'darwin-arm64', os: 'darwin', cpu: 'arm64' },
  { name: 'darwin-x64', os: 'darwin', cpu: 'x64' },
  { name: 'win32-x64', os: 'win32', cpu: 'x64' },
];

export function platformPackageName(target: PlatformTarget): string {
  return `${PLATFORM_SCOPE}/${target.name}`;
}

/** The C library this Node runs on. */
export function runtimeLibc(): Libc {
  // ldd is a script that names its C library: cheaper than a process report, which can stall on
  // open sockets. Failing that, glibc reports its version in the process report and musl does not.
  try {
    const ldd = fs.readFileSync('/usr/bin/ldd', 'utf8');
    if (ldd.includes('musl')) return 'musl';
    if (ldd.includes('GNU C Library')) return 'glibc';
  } catch {
    // no ldd: ask the process report
  }
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime ? 'glibc' : 'musl';
}

/** This process's platform as a package name would spell it, e.g. 'linux-x64-gnu' (whether or not one is built). */
export function currentPlatformName(): string {
  const base = `${process.platform}-${process.arch}`;
  if (process.platform !== 'linux') return base;
  return `${base}-${runtimeLibc() === 'glibc' ? 'gnu' : 'musl'}`;
}

/** The platform package for this process, if there is one. */
export function currentPlatformTarget(): PlatformTarget | undefined {
  const name = currentPlatformName();
  return PLATFORM_TARGETS.find((t) => t.name === name);
}
