// npm run prebuild [-- --target NAME] [--binary FILE] [--cuda on|off|auto] [--out DIR]
// Builds the shipped addon in release mode for one platform (this one by default; linux-arm64-gnu is
// cross-built on linux-x64 with cmake/toolchains/aarch64-linux-gnu.cmake), checks it, and writes the
// publishable platform package npm/<name>/. --binary packages an addon built before instead.
// Checks: the ELF CPU, for glibc targets no symbol version above the glibc floor and no libstdc++ need,
// and, where it can run here, that it loads in a child process and carries this package's version.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { probeAddon } from '../lib/native-probe';
import { packageRoot } from '../lib/package-info';
import { currentPlatformTarget, PLATFORM_TARGETS, runtimeLibc, type PlatformTarget } from '../lib/platform-package';
import { newestNeeded, readElfInfo, versionAtMost } from './elf-info';
import { writePlatformPackage } from './platform-package-dir';

const ROOT = packageRoot();
const ELF_MACHINE: Partial<Record<NodeJS.Architecture, string>> = { x64: 'x86_64', arm64: 'aarch64' };
/** Targets built on another platform, with the CMake toolchain file that does it. */
const CROSS_TOOLCHAINS: Record<string, { from: string; toolchain: string }> = {
  'linux-arm64-gnu': { from: 'linux-x64-gnu', toolchain: 'cmake/toolchains/aarch64-linux-gnu.cmake' },
};

interface Options {
  target: PlatformTarget;
  binary?: string;
  cuda: 'ON' | 'OFF' | 'AUTO';
  out: string;
}

function fail(message: string): never {
  process.stderr.write(`prebuild: ${message}\n`);
  process.exit(1);
}

function parseArgs(argv: string[]): Options {
  const values: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (!['--target', '--binary', '--cuda', '--out'].includes(flag) || value === undefined) {
      fail(`usage: npm run prebuild -- [--target NAME] [--binary FILE] [--cuda on|off|auto] [--out DIR] (got ${flag})`);
    }
    values[flag.slice(2)] = value;
  }
  const target = values.target ? PLATFORM_TARGETS.find((t) => t.name === values.target) : currentPlatformTarget();
  if (!target) fail(`no platform package is defined for ${values.target ?? `${process.platform}-${process.arch}`}; known: ${PLATFORM_TARGETS.map((t) => t.name).join(', ')}`);
  // The release linux-x64 addon carries the CUDA kernels; a cross build has no CUDA toolkit for its target.
  const cuda = (values.cuda?.toUpperCase() ?? (target.name === 'linux-x64-gnu' ? 'ON' : isCross(target) ? 'OFF' : 'AUTO')) as Options['cuda'];
  if (!['ON', 'OFF', 'AUTO'].includes(cuda)) fail(`--cuda must be on, off or auto, got ${values.cuda}`);
  return { target, binary: values.binary && path.resolve(values.binary), cuda, out: path.resolve(values.out ?? path.join(ROOT, 'npm')) };
}

function isHere(target: PlatformTarget): boolean {
  return target.os === process.platform && target.cpu === process.arch && (target.libc === undefined || target.libc === runtimeLibc());
}

function isCross(target: PlatformTarget): boolean {
  return !isHere(target);
}

function build(target: PlatformTarget, cuda: Options['cuda']): string {
  const out = path.join(ROOT, 'build', `prebuild-${target.name}`);
  const args = [require.resolve('cmake-js/bin/cmake-js'), 'compile', '--out', out, '--target', 'onnxforge', `--CDONNXFORGE_CUDA=${cuda}`];
  if (isCross(target)) {
    const cross = CROSS_TOOLCHAINS[target.name];
    const here = PLATFORM_TARGETS.find(isHere)?.name;
    if (!cross || cross.from !== here) fail(`${target.name} cannot be built on ${here ?? process.platform}; build it on its own platform (.github/workflows/prebuild.yml)`);
    args.push(`--CDCMAKE_TOOLCHAIN_FILE=${path.join(ROOT, cross.toolchain)}`);
  }
  // Symbols are no use to a user and a third of the file; GNU ld drops them with -s.
  if (target.os === 'linux') args.push('--CDCMAKE_SHARED_LINKER_FLAGS_RELEASE=-s');
  const child = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
  if (child.status !== 0) fail(`the build failed (cmake-js exited with ${child.status ?? child.signal})`);
  return path.join(out, 'Release', 'onnxforge.node');
}

function glibcFloor(): string {
  const cmake = fs.readFileSync(path.join(ROOT, 'cmake', 'glibc_floor.cmake'), 'utf8');
  const floor = /set\(ONNXFORGE_GLIBC_FLOOR_VERSION ([\d.]+)\)/.exec(cmake)?.[1];
  if (!floor) fail('cmake/glibc_floor.cmake does not set ONNXFORGE_GLIBC_FLOOR_VERSION');
  return floor;
}

/** Checks the addon for the target; returns the lines of the report. */
function check(binary: string, target: PlatformTarget, version: string, floor: string): string[] {
  const report: string[] = [];
  if (target.os === 'linux') {
    const elf = readElfInfo(binary);
    if (elf.machine !== ELF_MACHINE[target.cpu]) fail(`${binary} is for ${elf.machine}, not ${target.cpu}`);
    const glibc = newestNeeded(elf, 'GLIBC');
    if (target.libc === 'glibc') {
      if (glibc && !versionAtMost(glibc, floor)) fail(`${binary} needs GLIBC_${glibc}, above the floor ${floor} (a new libc call: pin it in native/compat/glibc_floor.cc)`);
      const cxx = ['GLIBCXX', 'CXXABI'].map((p) => newestNeeded(elf, p)).filter(Boolean);
      if (cxx.length) fail(`${binary} needs the system libstdc++ (${cxx.join(', ')}); it must be linked statically`);
    }
    report.push(`${elf.machine} ELF; newest glibc symbol version needed: ${glibc ?? 'none'} (floor ${floor}); versions needed from: ${Object.keys(elf.versionNeeds).join(', ')}`);
  }
  if (isHere(target)) {
    const probe = probeAddon(binary);
    if (!probe.ok) fail(`${binary} does not load here: ${probe.reason}`);
    if (probe.buildInfo.version !== version) fail(`${binary} is version ${probe.buildInfo.version}, the package is ${version}`);
    const info = probe.buildInfo;
    report.push(`loads here: version ${info.version}, CPU paths ${info.isaPaths.join(', ')}, CUDA ${info.cuda ?? 'not built'}, ${info.compiler}`);
  } else {
    report.push('cross-built: not loaded here');
  }
  return report;
}

function main(): void {
  const options = parseArgs(process.argv.slice(2));
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; license: string; engines: { node: string } };
  const binary = options.binary ?? build(options.target, options.cuda);
  if (!fs.existsSync(binary)) fail(`${binary} does not exist`);
  const floor = glibcFloor();
  const report = check(binary, options.target, pkg.version, floor);
  const dir = writePlatformPackage(options.out, {
    target: options.target, binary, version: pkg.version, nodeEngines: pkg.engines.node, license: pkg.license,
    glibcFloor: options.target.libc === 'glibc' ? floor : undefined,
  });
  const size = fs.statSync(path.join(dir, 'onnxforge.node')).size;
  process.stdout.write([`${dir}: onnxforge.node ${(size / 2 ** 20).toFixed(2)} MiB`, ...report].join('\n') + '\n');
}

main();
