import { spawnSync } from 'child_process';
import * as path from 'path';
import { kernels } from '../../lib/kernels';

const ROOT = path.resolve(__dirname, '../..');

/** cpuInfo() in a fresh process: the ISA cap is read once, at load. */
function cpuInfoWith(env: NodeJS.ProcessEnv): { status: number | null; info?: ReturnType<typeof kernels.cpuInfo>; stderr: string } {
  const script = "try { console.log(JSON.stringify(require('./dist/lib/kernels').kernels.cpuInfo())) } catch (e) { console.error(e.message); process.exit(3) }";
  const r = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, info: r.status === 0 ? JSON.parse(r.stdout) : undefined, stderr: r.stderr };
}

describe('addon: CPU detection and thread pool', () => {
  test('cpuInfo reports features, levels and cores consistently', () => {
    const info = kernels.cpuInfo();
    const f = info.features;
    for (const key of ['sse4.2', 'avx2', 'fma', 'avx512f', 'avx512bw', 'avx512vl', 'avx512vnni', 'avxvnni', 'amx-tile', 'amx-int8', 'amx-bf16']) {
      expect(typeof (f as unknown as Record<string, boolean>)[key]).toBe('boolean');
    }
    const levels = ['scalar', 'avx2', 'avx512vnni', 'amx'];
    expect(levels).toContain(info.isa);
    expect(levels.indexOf(info.isa)).toBeLessThanOrEqual(levels.indexOf(info.detectedIsa));
    if (info.detectedIsa === 'amx') expect(f['amx-int8'] && f['amx-tile']).toBe(true);
    if (levels.indexOf(info.detectedIsa) >= 2) expect(f.avx512vnni && f.avx512bw).toBe(true);
    if (levels.indexOf(info.detectedIsa) >= 1) expect(f.avx2 && f.fma).toBe(true);
    expect(info.physicalCores).toBeGreaterThanOrEqual(1);
    expect(info.logicalCores).toBeGreaterThanOrEqual(info.physicalCores);
  });

  test('the default thread count is the number of physical cores; setNumThreads changes it', () => {
    const fresh = cpuInfoWith({});
    expect(fresh.info?.threads).toBe(fresh.info?.physicalCores);
    const before = kernels.getNumThreads();
    try {
      kernels.setNumThreads(3);
      expect(kernels.getNumThreads()).toBe(3);
      expect(kernels.cpuInfo().threads).toBe(3);
    } finally {
      kernels.setNumThreads(before);
    }
  });

  test('kernels stay correct and never hang across thread-pool resizes', () => {
    const [m, k, n] = [64, 96, 80];
    const a = Uint8Array.from({ length: m * k }, (_, i) => (i * 37) % 256);
    const b = Int8Array.from({ length: k * n }, (_, i) => ((i * 11) % 255) - 127);
    const w = kernels.packInt8Weights(b, k, n);
    const expected = kernels.matmulInteger(a, m, k, w);
    const before = kernels.getNumThreads();
    try {
      for (const threads of [4, 1, 3, 2, 5, 2, 4, 3, 5, 2]) {
        kernels.setNumThreads(threads);
        for (let run = 0; run < 5; run++) expect(kernels.matmulInteger(a, m, k, w)).toEqual(expected);
      }
    } finally {
      kernels.setNumThreads(before);
      w.dispose();
    }
  });

  test('setNumThreads rejects bad values without crashing', () => {
    expect(() => kernels.setNumThreads(0)).toThrow(RangeError);
    expect(() => kernels.setNumThreads(1.5)).toThrow(RangeError);
    expect(() => kernels.setNumThreads(Number.NaN)).toThrow(RangeError);
    expect(() => (kernels.setNumThreads as (n: unknown) => void)('2')).toThrow(TypeError);
    expect(() => (kernels.setNumThreads as () => void)()).toThrow(TypeError);
  });

  test('ONNXFORGE_ISA caps the level at every level below the detected one', () => {
    const detected = kernels.cpuInfo().detectedIsa;
    const levels = ['scalar', 'avx2', 'avx512vnni', 'amx'];
    for (const cap of levels) {
      const r = cpuInfoWith({ ONNXFORGE_ISA: cap });
      expect(r.status).toBe(0);
      const expected = levels[Math.min(levels.indexOf(cap), levels.indexOf(detected))];
      expect(r.info?.isa).toBe(expected);
      expect(r.info?.detectedIsa).toBe(detected);
    }
  });

  test('an unknown ONNXFORGE_ISA is a clear error naming the valid levels', () => {
    const r = cpuInfoWith({ ONNXFORGE_ISA: 'sse9' });
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/ONNXFORGE_ISA=sse9 is not a known ISA level; use one of scalar, avx2, avx512vnni, amx/);
  });

  test('the package root exports the API', () => {
    const root = require(ROOT) as Record<string, unknown>;
    for (const name of ['loadModel', 'saveModel', 'compareModels', 'inspectModel', 'buildMlp', 'pruneFile', 'quantizeFile', 'runDemo', 'createExampleServer']) {
      expect(typeof root[name]).toBe('function');
    }
    expect(typeof (root.kernels as typeof kernels).cpuInfo).toBe('function');
  });
});
