// lib/native.ts's search: ONNXFORGE_BINARY names the binary explicitly (nothing else is tried),
// and a binary not built here is loaded in a child process first, so one that crashes or is not
// an onnxforge addon gives a NativeLoadError instead of taking the process down; an addon of another
// onnxforge version is refused. (The platform package and prebuilds/ are tried in an installed
// package: test/install/prebuilt-install.test.ts.)
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { nativeAddonInfo } from '../../lib/native';
import { packageVersion } from '../../lib/package-info';
import { copyAddonWithVersion } from '../helpers/addon-copies';
import { ADDON, ROOT, TEST_ADDON } from '../helpers/test-addon';
import { makeTempDir, removeDir } from '../helpers/temp';

/** Loads the library (from dist/) in a fresh process with ONNXFORGE_BINARY=binary and calls cpuInfo(). */
function loadWith(binary: string): { status: number | null; stdout: string; stderr: string } {
  const script = `
    try { console.log(require('./dist/lib/kernels').kernels.cpuInfo().isa) }
    catch (e) { console.error(e.name + ': ' + e.message); process.exit(3) }`;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ONNXFORGE_BINARY: binary } });
  return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

describe('loading the addon from ONNXFORGE_BINARY', () => {
  let dir: string;
  beforeAll(() => {
    dir = makeTempDir('onnxforge-loader-');
  });
  afterAll(() => removeDir(dir));

  test('a working binary is used', () => {
    const r = loadWith(TEST_ADDON);
    expect(r.stderr).toBe('');
    expect(['scalar', 'avx2', 'avx512vnni', 'amx']).toContain(r.stdout);
  });

  test('a missing file is one clear error naming the variable', () => {
    const missing = path.join(dir, 'nowhere.node');
    const r = loadWith(missing);
    expect(r.status).toBe(3);
    expect(r.stderr).toBe(`NativeLoadError: ONNXFORGE_BINARY=${missing} cannot be loaded: no such file`);
  });

  test('a binary that crashes as it loads kills a test process, not this one', () => {
    const crashing = path.join(dir, 'crash.js');
    fs.writeFileSync(crashing, "process.kill(process.pid, 'SIGSEGV');\n");
    const r = loadWith(crashing);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/^NativeLoadError: ONNXFORGE_BINARY=.*crash\.js cannot be loaded: loading it crashed a test process \(SIGSEGV\)$/);
  });

  test('a module that is not an onnxforge addon, or does not load, is refused with the reason', () => {
    const other = path.join(dir, 'other.js');
    fs.writeFileSync(other, 'module.exports = { hello: 1 };\n');
    expect(loadWith(other).stderr).toMatch(/cannot be loaded: it is not an onnxforge addon \(it has no buildInfo and cpuInfo\)$/);
    const broken = path.join(dir, 'broken.node');
    fs.writeFileSync(broken, 'not an ELF file');
    expect(loadWith(broken).stderr).toMatch(/cannot be loaded: .*(invalid ELF header|file too short)/);
  });

  test('an addon of another onnxforge version is refused, naming both versions', () => {
    const version = packageVersion();
    const other = version.replace(/\d/, (d) => String((Number(d) + 1) % 10));
    const file = path.join(dir, 'other-version.node');
    copyAddonWithVersion(ADDON, file, other, version);
    const r = loadWith(file);
    expect(r.status).toBe(3);
    expect(r.stderr).toBe(`NativeLoadError: ONNXFORGE_BINARY=${file} cannot be loaded: it was built for onnxforge ${other}, this is ${version}`);
  });
});

describe('loading the addon in a clone of the repository', () => {
  test('the local build is used, with its version and what was passed over', () => {
    const info = nativeAddonInfo();
    expect(info).toMatchObject({ source: 'local build', file: ADDON });
    expect(info.buildInfo.version).toBe(packageVersion());
    expect(info.passedOver).toEqual([expect.stringMatching(/^platform package: @onnxforge\/[a-z0-9-]+ is not installed$|^platform package: no prebuilt package is made for /)]);
  });
});
