// Loads the native addon from the first place that has a usable one:
//   1. ONNXFORGE_BINARY, an explicit path: when it is set, nothing else is tried;
//   2. the platform package (@onnxforge/linux-x64-gnu, ...), which npm installs as an optional dependency;
//   3. prebuilds/<platform>-<arch>/onnxforge.node;
//   4. the local build, build/Release/onnxforge.node (built by the install script or `npm run build:native`).
// A binary not built here (1-3) is first loaded in a child process (native-probe.ts). Every binary must
// carry this package's version (buildInfo().version): one left from another release is refused, not
// half-used. Failing all, one error names the platform, what was tried and what to run.
import * as fs from 'fs';
import * as path from 'path';
import type { BuildInfo, NativeBinding } from '../binding';
import { probeAddon } from './native-probe';
import { packageRoot, packageVersion } from './package-info';
import { currentPlatformName, currentPlatformTarget, platformPackageName } from './platform-package';

export type { NativeBinding } from '../binding';

const VALID_ISA_NAMES = ['scalar', 'avx2', 'avx512vnni', 'amx'];

export class NativeLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NativeLoadError';
  }
}

export type BinarySource = 'ONNXFORGE_BINARY' | 'platform package' | 'prebuilds' | 'local build';

export interface FoundBinary {
  source: BinarySource;
  file: string;
  buildInfo: BuildInfo;
}

export interface LoadedBinary extends FoundBinary {
  binding: NativeBinding;
  /** The places tried before it, each with why it was passed over. */
  passedOver: string[];
}

/** Why a binary of `info` is not this package's, or null when it is. */
function versionMismatch(info: BuildInfo): string | null {
  const expected = packageVersion();
  return info.version === expected ? null : `it was built for onnxforge ${info.version}, this is ${expected}`;
}

function platformPackageFile(): { file: string } | { missing: string } {
  const target = currentPlatformTarget();
  if (!target) return { missing: `no prebuilt package is made for ${currentPlatformName()}` };
  const name = platformPackageName(target);
  try {
    return { file: path.join(path.dirname(require.resolve(`${name}/package.json`, { paths: [packageRoot()] })), 'onnxforge.node') };
  } catch {
    return { missing: `${name} is not installed` };
  }
}

/** A binary that was not built here, tried in a child process: its build info, or why not. */
function tryPrebuilt(file: string): { buildInfo: BuildInfo } | { reason: string } {
  const probe = probeAddon(file);
  if (!probe.ok) return { reason: probe.reason };
  const mismatch = versionMismatch(probe.buildInfo);
  return mismatch ? { reason: mismatch } : { buildInfo: probe.buildInfo };
}

/**
 * The first prebuilt binary that loads (ONNXFORGE_BINARY when set, else the platform package, then
 * prebuilds/), and why each one before it did not. The install script compiles only when none does.
 */
export function findPrebuiltBinary(): { found?: FoundBinary; failures: string[] } {
  const failures: string[] = [];
  const explicit = process.env.ONNXFORGE_BINARY;
  const candidates: { source: BinarySource; file: string }[] = [];
  if (explicit) {
    candidates.push({ source: 'ONNXFORGE_BINARY', file: path.resolve(explicit) });
  } else {
    const platformPackage = platformPackageFile();
    if ('file' in platformPackage) candidates.push({ source: 'platform package', file: platformPackage.file });
    else failures.push(`platform package: ${platformPackage.missing}`);
    const prebuild = path.join(packageRoot(), 'prebuilds', `${process.platform}-${process.arch}`, 'onnxforge.node');
    if (fs.existsSync(prebuild)) candidates.push({ source: 'prebuilds', file: prebuild });
  }
  for (const candidate of candidates) {
    const result = tryPrebuilt(candidate.file);
    if ('buildInfo' in result) return { found: { ...candidate, buildInfo: result.buildInfo }, failures };
    failures.push(candidate.source === 'ONNXFORGE_BINARY' ? result.reason : `${candidate.file}: ${result.reason}`);
  }
  return { failures };
}

/** True in a clone of the repository (not an installed package). */
export function isGitCheckout(): boolean {
  return fs.existsSync(path.join(packageRoot(), '.git'));
}

function remedy(): string {
  if (isGitCheckout()) return 'build it with `npm run build:native` (needs cmake >= 3.18 and a C++17 compiler)';
  const target = currentPlatformTarget();
  const install = target ? `install the prebuilt binary with \`npm install ${platformPackageName(target)}@${packageVersion()}\`, or ` : '';
  return `${install}build it from source with \`npm rebuild onnxforge\` (needs cmake >= 3.18 and a C++17 compiler)`;
}

function loadBinding(): LoadedBinary {
  const { found, failures } = findPrebuiltBinary();
  if (found) return { ...found, binding: require(found.file) as NativeBinding, passedOver: failures };
  const explicit = process.env.ONNXFORGE_BINARY;
  if (explicit) throw new NativeLoadError(`ONNXFORGE_BINARY=${explicit} cannot be loaded: ${failures[0]}`);

  const local = path.join(packageRoot(), 'build', 'Release', 'onnxforge.node');
  if (fs.existsSync(local)) {
    try {
      const binding = require(local) as NativeBinding;
      const buildInfo = binding.buildInfo();
      const mismatch = versionMismatch(buildInfo);
      if (!mismatch) return { source: 'local build', file: local, buildInfo, binding, passedOver: failures };
      failures.push(`${local}: ${mismatch}`);
    } catch (err) {
      failures.push(`${local}: ${(err as Error).message.split('\n')[0]}`);
    }
  } else {
    failures.push(`${local}: not built`);
  }
  throw new NativeLoadError(
    `onnxforge has no usable native addon for ${currentPlatformName()} (${failures.join('; ')}): ${remedy()}; ` +
      'or point ONNXFORGE_BINARY at an onnxforge.node',
  );
}

function checkIsaCap(): void {
  const cap = process.env.ONNXFORGE_ISA;
  if (cap && !VALID_ISA_NAMES.includes(cap)) {
    throw new NativeLoadError(`ONNXFORGE_ISA=${cap} is not a known ISA level; use one of ${VALID_ISA_NAMES.join(', ')}`);
  }
}

let cached: LoadedBinary | undefined;

/** The addon with where it came from, loaded on first use. */
export function nativeBinary(): LoadedBinary {
  if (!cached) {
    checkIsaCap();
    cached = loadBinding();
  }
  return cached;
}

/** The addon, loaded on first use. */
export function native(): NativeBinding {
  return nativeBinary().binding;
}

export type NativeAddonInfo = Omit<LoadedBinary, 'binding'>;

/** Which addon this process uses, from where, and how it was built (loading it on first use). */
export function nativeAddonInfo(): NativeAddonInfo {
  const { binding: _binding, ...info } = nativeBinary();
  return info;
}
