// The shape of native/: only the bindings (native/napi/) include N-API, and only the dispatch
// module checks CPU features (cpu_features.cc detects once, isa_dispatch.{h,cc} chooses, and
// each kernel family lists its implementations for selectIsa()). A source that breaks either
// rule is named here.
import * as fs from 'fs';
import * as path from 'path';
import { ROOT } from '../helpers/test-addon';

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const file = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) return sources(file);
    return /\.(cc|h|cu|cuh)$/.test(entry.name) ? [file] : [];
  });
}

const files = sources('native');
const matching = (pattern: RegExp) => files.filter((file) => pattern.test(fs.readFileSync(path.join(ROOT, file), 'utf8')));

describe('native layout', () => {
  test('only native/napi/ includes N-API headers', () => {
    const napi = matching(/#include\s*[<"](napi|node_api|js_native_api)\.h[>"]/);
    expect(napi.length).toBeGreaterThan(0);
    expect(napi.filter((file) => !file.startsWith('native/napi/'))).toEqual([]);
  });

  test('no CPU-feature check outside the dispatch module', () => {
    const checks = matching(/\bactiveIsa\(|\bcpuFeatures\(|\.(activeLevel|detectedLevel|isaCap)\b|__builtin_cpu_|cpuid\.h|xgetbv/);
    const dispatchModule = ['native/include/cpu_features.h', 'native/cpu/cpu_features.cc', 'native/include/isa_dispatch.h', 'native/cpu/isa_dispatch.cc'];
    // cpuInfo() reports what was detected; the thread pool sizes itself by physical cores.
    const readers = ['native/napi/system.cc', 'native/cpu/thread_pool.cc'];
    expect(checks).toEqual(expect.arrayContaining(['native/cpu/cpu_features.cc', 'native/cpu/isa_dispatch.cc']));
    expect(checks.filter((file) => !dispatchModule.includes(file) && !readers.includes(file))).toEqual([]);
  });
});
