// The kernels the addon does not export (gemm/gemmSerial, the vector math, gemmPacked with
// strides) are checked by a plain C++ self-test, native/test/selftest/float_kernels_test.cc: a CMake
// target outside the addon, built here into build/native-tests and run on every ISA path.
import { spawnSync } from 'child_process';
import * as path from 'path';
import { ROOT } from './int8-isa';
import { floatIsaRuns } from './float-isa';

const BUILD = path.join(ROOT, 'build', 'native-tests');
const TARGET = 'onnxforge_float_kernels_test';

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const child = spawnSync(command, args, { encoding: 'utf8', env, maxBuffer: 1 << 26 });
  return { status: child.status, output: `${child.stdout ?? ''}${child.stderr ?? ''}${child.error ? String(child.error) : ''}` };
}

const configure = run('cmake', ['-S', ROOT, '-B', BUILD, '-DONNXFORGE_BUILD_TESTS=ON', '-DONNXFORGE_CUDA=OFF',
  '-DCMAKE_BUILD_TYPE=Release']);
const build = configure.status === 0 ? run('cmake', ['--build', BUILD, '--target', TARGET, '--parallel', '2']) : configure;
const { runs, skipped } = floatIsaRuns();

test('the self-test builds (cmake -DONNXFORGE_BUILD_TESTS=ON)', () => {
  expect(build.output).not.toMatch(/error/i);
  expect(build.status).toBe(0);
});

describe.each(runs.map((r) => [r.label, r] as const))('float kernels self-test, ISA %s', (_label, isaRun) => {
  test('gemm, gemmSerial, gemmPacked and the vector math meet their error bounds', () => {
    const result = run(path.join(BUILD, TARGET), [], { ...process.env, ONNXFORGE_ISA: isaRun.isa });
    expect(result.output.split('\n')[0]).toMatch(new RegExp(`^float kernels at ISA ${isaRun.isa} \\(vector math ${isaRun.isa}\\)`));
    expect(result.output.split('\n').filter((line) => line.startsWith('FAIL'))).toEqual([]);
    expect(result.output).toMatch(/^0 failure\(s\)$/m);
    expect(result.status).toBe(0);
  });
});

for (const reason of skipped) test.skip(`float kernels self-test, ISA ${reason}`, () => undefined);
