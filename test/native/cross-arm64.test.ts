// linux-arm64-gnu is cross-built on linux-x64 with Debian's cross toolchain (npm run prebuild --
// --target linux-arm64-gnu): the scalar kernel paths compile and link for aarch64 within the glibc
// floor, the addon loads and computes in an arm64 Node under qemu, and the C++ self-test of the float
// kernels passes there.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { newestNeeded, readElfInfo, versionAtMost } from '../../scripts/elf-info';
import { nodeArm64Absent, runArm64Program, runNodeArm64 } from '../helpers/debian-roots';
import { onPath } from '../helpers/on-path';
import { describeWhen, testWhen } from '../helpers/skip';
import { makeTempDir, removeDir } from '../helpers/temp';
import { ROOT } from '../helpers/test-addon';

const PREBUILD = path.join(ROOT, 'dist', 'scripts', 'prebuild.js');
const TOOLCHAIN = path.join(ROOT, 'cmake', 'toolchains', 'aarch64-linux-gnu.cmake');
const SELFTEST_BUILD = path.join(ROOT, 'build', 'native-tests-arm64');
const SELFTEST = 'onnxforge_float_kernels_test';

const crossAbsent = process.platform === 'linux' && process.arch === 'x64'
  ? (onPath('aarch64-linux-gnu-g++') ? undefined : 'aarch64-linux-gnu-g++ is not installed (apt-get install g++-aarch64-linux-gnu)')
  : 'the arm64 cross build runs on linux-x64';

function run(command: string, args: string[]) {
  const r = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

describeWhen(crossAbsent, 'linux-arm64-gnu, cross-built', () => {
  let out: string;
  let prebuild: { status: number | null; output: string };
  const pkg = () => path.join(out, 'linux-arm64-gnu');

  beforeAll(() => {
    out = makeTempDir('onnxforge-arm64-');
    prebuild = run(process.execPath, [PREBUILD, '--target', 'linux-arm64-gnu', '--out', out]);
  }, 600_000);
  afterAll(() => removeDir(out));

  test('npm run prebuild writes an aarch64 platform package within the glibc floor', () => {
    expect(prebuild.output).toMatch(/aarch64 ELF; newest glibc symbol version needed: [\d.]+ \(floor 2\.28\)/);
    expect(prebuild.status).toBe(0);
    const manifest = JSON.parse(fs.readFileSync(path.join(pkg(), 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({ name: '@onnxforge/linux-arm64-gnu', os: ['linux'], cpu: ['arm64'], libc: ['glibc'], main: 'onnxforge.node' });
    const elf = readElfInfo(path.join(pkg(), 'onnxforge.node'));
    expect(elf.machine).toBe('aarch64');
    expect(versionAtMost(newestNeeded(elf, 'GLIBC')!, '2.28')).toBe(true);
    expect([newestNeeded(elf, 'GLIBCXX'), newestNeeded(elf, 'CXXABI')]).toEqual([null, null]);
  });

  testWhen(nodeArm64Absent(), 'the addon loads in an arm64 Node under qemu and its kernels give exact results', () => {
    const script = `
      const a = require(${JSON.stringify(path.join(pkg(), 'onnxforge.node'))});
      const w = a.packInt8Weights(Int8Array.from({ length: 17 * 15 }, (_, i) => (i * 7) % 255 - 127), 17, 15);
      const x = Uint8Array.from({ length: 3 * 17 }, (_, i) => (i * 13) % 256);
      const y = a.matmulInteger(x, 3, 17, w);
      let exact = true;
      for (let r = 0; r < 3; r++) for (let c = 0; c < 15; c++) {
        let s = 0;
        for (let k = 0; k < 17; k++) s += x[r * 17 + k] * ((k * 15 + c) * 7 % 255 - 127);
        if (y[r * 15 + c] !== s) exact = false;
      }
      const sparse = a.matmulSparse(Float32Array.of(1, 2), 1, 2, a.packSparse(Float32Array.of(0, 3, 5, 0), 2, 2));
      const info = a.buildInfo();
      console.log(JSON.stringify({ arch: process.arch, target: info.target, isaPaths: info.isaPaths, isa: a.cpuInfo().isa,
        exact, sparse: Array.from(sparse), cuda: a.cudaAvailable() }));`;
    const r = runNodeArm64(script);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ arch: 'arm64', target: 'Linux aarch64', isaPaths: ['scalar'], isa: 'scalar', exact: true, sparse: [10, 3], cuda: false });
  });

  testWhen(onPath('qemu-aarch64') ? undefined : 'qemu-aarch64 is not installed (apt-get install qemu-user)',
    'the C++ self-test of the float kernels passes under qemu', () => {
      const configure = run('cmake', ['-S', ROOT, '-B', SELFTEST_BUILD, `-DCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN}`,
        '-DONNXFORGE_BUILD_TESTS=ON', '-DONNXFORGE_CUDA=OFF', '-DCMAKE_BUILD_TYPE=Release']);
      expect(configure.status).toBe(0);
      const build = run('cmake', ['--build', SELFTEST_BUILD, '--target', SELFTEST, '--parallel', '2']);
      expect(build.output).not.toMatch(/error/i);
      expect(build.status).toBe(0);
      const result = runArm64Program(path.join(SELFTEST_BUILD, SELFTEST));
      expect(result.stdout.split('\n')[0]).toMatch(/^float kernels at ISA scalar \(vector math scalar\)/);
      expect(result.stdout.split('\n').filter((line) => line.startsWith('FAIL'))).toEqual([]);
      expect(result.stdout).toMatch(/^0 failure\(s\)$/m);
      expect(result.status).toBe(0);
    }, 600_000);
});
