// onnxforge as npm gives it to a user: the main package (as `npm run pack:main` writes it) and this
// platform's package (as `npm run prebuild` writes it, around the addon this checkout built), packed
// with `npm pack` and installed into fresh projects on a PATH with no cmake and no compiler. The
// prebuilt addon loads with install scripts off, nothing compiles with them on, and a missing, corrupt
// or other-version addon is reported (or passed over) without taking the process down.
import * as fs from 'fs';
import * as path from 'path';
import { packageVersion } from '../../lib/package-info';
import { currentPlatformName, currentPlatformTarget, PLATFORM_TARGETS, platformPackageName } from '../../lib/platform-package';
import { copyAddonWithVersion, writeCorruptAddon } from '../helpers/addon-copies';
import { BUILD_TOOLS, pathWithoutToolchain, runWithout } from '../helpers/no-toolchain';
import { onPath } from '../helpers/on-path';
import { describeWhen } from '../helpers/skip';
import { makeTempDir, removeDir } from '../helpers/temp';
import { ADDON, ROOT } from '../helpers/test-addon';

const target = currentPlatformTarget();
const absent = process.platform === 'win32' ? 'the PATH without build tools is made of POSIX links'
  : target ? undefined : `no platform package is made for ${currentPlatformName()}`;
const version = packageVersion();
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, (c) => `\\${c}`);

interface Project { dir: string; install: { status: number | null; output: string; seconds: number } }
interface LoadResult { status: number | null; stderr: string; info?: { source: string; file: string; buildInfo: { version: string }; passedOver: string[]; product: number[] } }

// Loads onnxforge as a user's code does and runs one int8 product ([1, 1] x [[1, 2], [3, 4]] = [4, 6]).
const LOAD = `
try {
  const onnxforge = require('onnxforge');
  const info = onnxforge.nativeAddonInfo();
  const w = onnxforge.kernels.packInt8Weights(Int8Array.of(1, 2, 3, 4), 2, 2);
  console.log(JSON.stringify({ ...info, product: Array.from(onnxforge.kernels.matmulInteger(Uint8Array.of(1, 1), 1, 2, w)) }));
} catch (e) { console.error(e.name + ': ' + e.message); process.exit(3); }`;

describeWhen(absent, 'installing the packed packages with no build tools', () => {
  const name = target!.name;
  const packageName = platformPackageName(target!);
  let dir: string;
  let bin: string;
  let mainTarball: string;
  let platformTarball: string;
  let plain: Project;
  let withScripts: Project;

  const run = (cwd: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
    const r = runWithout(bin, cwd, command, args, env);
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, output: `${r.stdout}${r.stderr}` };
  };
  const load = (project: Project): LoadResult => {
    const r = run(project.dir, 'node', ['-e', LOAD]);
    return { status: r.status, stderr: r.stderr.trim(), info: r.status === 0 ? JSON.parse(r.stdout) : undefined };
  };
  const install = (label: string, manifest: object, args: string[]): Project => {
    const project = path.join(dir, label);
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: label, version: '1.0.0', private: true, ...manifest }));
    const started = process.hrtime.bigint();
    const r = run(project, 'npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...args, mainTarball, platformTarball]);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    // For the record (README, issue notes), not asserted: install time depends on the network and the cache.
    process.stderr.write(`onnxforge tests: npm install ${args.join(' ')} took ${seconds.toFixed(1)} s\n`);
    return { dir: project, install: { status: r.status, output: r.output, seconds } };
  };
  const platformAddon = (project: Project) => path.join(project.dir, 'node_modules', packageName, 'onnxforge.node');

  beforeAll(() => {
    dir = makeTempDir('onnxforge-install-');
    bin = pathWithoutToolchain(path.join(dir, 'bin'));
    const npmDir = path.join(dir, 'npm');
    for (const script of [['prebuild.js', '--binary', ADDON, '--target', name], ['pack-main.js']]) {
      const r = run(ROOT, 'node', [path.join(ROOT, 'dist', 'scripts', script[0]), ...script.slice(1), '--out', npmDir]);
      if (r.status !== 0) throw new Error(`${script[0]} failed: ${r.output}`);
    }
    const tarballs = path.join(dir, 'tarballs');
    fs.mkdirSync(tarballs);
    for (const pkg of ['onnxforge', name]) {
      const r = run(path.join(npmDir, pkg), 'npm', ['pack', '--ignore-scripts', '--pack-destination', tarballs]);
      if (r.status !== 0) throw new Error(`npm pack ${pkg} failed: ${r.output}`);
    }
    mainTarball = path.join(tarballs, `onnxforge-${version}.tgz`);
    platformTarball = path.join(tarballs, `onnxforge-${name}-${version}.tgz`);
    plain = install('app-ignore-scripts', {}, ['--ignore-scripts']);
    // npm 11 runs a dependency's install script only when the project allows it (allowScripts); a
    // tarball dependency is named by its spec there.
    withScripts = install('app-with-scripts', { allowScripts: { [`file:${mainTarball}`]: true, 'onnxruntime-node': true } }, ['--foreground-scripts']);
  }, 900_000);
  afterAll(() => removeDir(dir));

  test('the PATH they are installed on has no cmake and no compiler', () => {
    expect(BUILD_TOOLS.filter((tool) => onPath(tool, bin))).toEqual([]);
  });

  test('the main package lists every platform package as an optional dependency at its own version', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'npm', 'onnxforge', 'package.json'), 'utf8'));
    expect(manifest.optionalDependencies).toEqual(Object.fromEntries(PLATFORM_TARGETS.map((t) => [platformPackageName(t), version])));
    expect(Object.keys(manifest.scripts)).toEqual(['install', 'build:native']);
    expect(manifest.devDependencies).toBeUndefined();
  });

  describe('with install scripts off (--ignore-scripts)', () => {
    test('npm installs the platform package and nothing is compiled', () => {
      expect(plain.install).toMatchObject({ status: 0 });
      expect(fs.existsSync(platformAddon(plain))).toBe(true);
      expect(fs.existsSync(path.join(plain.dir, 'node_modules', 'onnxforge', 'build'))).toBe(false);
    });

    test("require('onnxforge') loads the prebuilt addon from the platform package", () => {
      expect(load(plain)).toEqual({
        status: 0, stderr: '',
        info: { source: 'platform package', file: platformAddon(plain), buildInfo: expect.objectContaining({ version }), passedOver: [], product: [4, 6] },
      });
    });

    test('npx onnxforge demo runs', () => {
      const r = run(plain.dir, 'npx', ['onnxforge', 'demo']);
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      expect(r.stdout).toMatch(/^quantized 6 MatMul nodes to int8 \(dynamic\): /m);
      expect(r.stdout).toMatch(/; cosine 0\.99\d+; /);
    });

    test('npx onnxforge doctor says which addon loaded and from where', () => {
      const r = run(plain.dir, 'npx', ['onnxforge', 'doctor']);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(`addon: ${platformAddon(plain)} (platform package)`);
      expect(r.stdout).toMatch(new RegExp(`^  built: onnxforge ${escape(version)}, `, 'm'));
    });
  });

  describe('with its install script allowed', () => {
    test('the install script finds the prebuilt addon and compiles nothing', () => {
      expect(withScripts.install).toMatchObject({ status: 0 });
      expect(withScripts.install.output).toContain(`onnxforge: using the prebuilt addon from the platform package (${platformAddon(withScripts)}); nothing to compile`);
      expect(fs.existsSync(path.join(withScripts.dir, 'node_modules', 'onnxforge', 'build'))).toBe(false);
      expect(load(withScripts).info?.source).toBe('platform package');
    });

    test.each([
      ['ONNXFORGE_BUILD_FROM_SOURCE=1', ['node', ['node_modules/onnxforge/scripts/install.js']], { ONNXFORGE_BUILD_FROM_SOURCE: '1' }, 'ONNXFORGE_BUILD_FROM_SOURCE'],
      ['npm rebuild --build-from-source', ['npm', ['rebuild', 'onnxforge', '--build-from-source', '--foreground-scripts']], {}, '--build-from-source'],
    ] as const)('%s makes it compile (and fail here, with no compiler, saying what it needs)', (_label, [command, args], env, why) => {
      const r = run(withScripts.dir, command, [...args], env);
      expect(r.output).toContain(`onnxforge: compiling the native addon (asked to (${why}))`);
      expect(r.output).toContain('onnxforge: compiling the native addon failed (see above); it needs cmake >= 3.18 and a C++17 compiler');
      expect(r.status).not.toBe(0);
    });
  });

  describe('a missing or broken prebuilt addon', () => {
    /** Runs `body` with the project's platform package changed by `change`, then puts it back. */
    function withPlatformPackage(change: (addon: string, packageDir: string) => void, body: () => void): void {
      const packageDir = path.dirname(platformAddon(plain));
      const saved = path.join(dir, 'saved-platform-package');
      fs.cpSync(packageDir, saved, { recursive: true });
      try {
        change(platformAddon(plain), packageDir);
        body();
      } finally {
        fs.rmSync(packageDir, { recursive: true, force: true });
        fs.renameSync(saved, packageDir);
      }
    }
    const local = () => path.join(plain.dir, 'node_modules', 'onnxforge', 'build', 'Release', 'onnxforge.node');

    test('without the platform package (scripts off), require names the platform and exactly what to run', () => {
      withPlatformPackage((_addon, packageDir) => fs.rmSync(packageDir, { recursive: true }), () => {
        expect(load(plain)).toEqual({
          status: 3,
          stderr: `NativeLoadError: onnxforge has no usable native addon for ${name} (platform package: ${packageName} is not installed; ` +
            `${local()}: not built): install the prebuilt binary with \`npm install ${packageName}@${version}\`, or build it from source with ` +
            '`npm rebuild onnxforge` (needs cmake >= 3.18 and a C++17 compiler); or point ONNXFORGE_BINARY at an onnxforge.node',
          info: undefined,
        });
      });
    });

    test('a corrupt addon in the platform package is reported by a test process; this one lives', () => {
      withPlatformPackage(writeCorruptAddon, () => {
        const r = load(plain);
        expect(r.status).toBe(3);
        expect(r.stderr).toMatch(new RegExp(`^NativeLoadError: onnxforge has no usable native addon for ${name} \\(${escape(platformAddon(plain))}: .*(invalid ELF header|file too short)`));
      });
    });

    test('an addon of another onnxforge version in the platform package is refused', () => {
      const other = version.replace(/\d/, (d) => String((Number(d) + 1) % 10));
      withPlatformPackage((addon) => copyAddonWithVersion(ADDON, addon, other, version), () => {
        const r = load(plain);
        expect(r.status).toBe(3);
        expect(r.stderr).toContain(`(${platformAddon(plain)}: it was built for onnxforge ${other}, this is ${version}; `);
      });
    });

    test('past a broken platform package, prebuilds/ is used', () => {
      const prebuild = path.join(plain.dir, 'node_modules', 'onnxforge', 'prebuilds', `${process.platform}-${process.arch}`, 'onnxforge.node');
      fs.mkdirSync(path.dirname(prebuild), { recursive: true });
      fs.copyFileSync(ADDON, prebuild);
      try {
        withPlatformPackage(writeCorruptAddon, () => {
          const r = load(plain);
          expect(r.info).toMatchObject({ source: 'prebuilds', file: prebuild, product: [4, 6] });
          expect(r.info?.passedOver).toEqual([expect.stringMatching(new RegExp(`^${escape(platformAddon(plain))}: .*(invalid ELF header|file too short)`))]);
        });
      } finally {
        fs.rmSync(path.dirname(path.dirname(prebuild)), { recursive: true });
      }
    });
  });
});
