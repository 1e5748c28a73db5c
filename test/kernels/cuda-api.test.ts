// The CUDA backend where there may be no GPU: cudaAvailable()/cudaDevices() never throw,
// the addon depends on no CUDA library, and every device option falls back or fails
// with the reason. On a GPU machine, ONNXFORGE_CUDA=0 (in a child) covers the fallback.
import { spawnSync } from 'child_process';
import { kernels } from '../../lib/kernels';
import { testAddon } from '../helpers/test-addon';
import { neededLibraries } from './cuda-elf';
import { ADDON, ROOT } from './int8-isa';
import { randomFloats, randomInts, rng } from './int8-reference';
import { describeWhen, testWhen } from '../helpers/skip';

const info = kernels.cudaInfo();
const rand = rng(11);
const [m, k, n] = [5, 40, 9];
const b = randomInts(Int8Array, k * n, -128, 127, rand);
const a = randomInts(Uint8Array, m * k, 0, 255, rand);
const x = randomFloats(m * k, 1, rand);
const wf = randomFloats(k * n, 1, rand).map((v, i) => (i % 3 ? 0 : v));
const scales = Float32Array.of(0.02);

describe('CUDA availability', () => {
  test('cudaAvailable, cudaDevices and cudaInfo agree and never throw', () => {
    expect(typeof kernels.cudaAvailable()).toBe('boolean');
    expect(kernels.cudaAvailable()).toBe(info.available);
    const devices = kernels.cudaDevices();
    expect(Array.isArray(devices)).toBe(true);
    if (info.available) {
      expect(info.reason).toBeNull();
      expect(devices.length).toBeGreaterThan(0);
      expect(devices[0]).toEqual(expect.objectContaining({ index: 0, name: expect.any(String), computeCapability: expect.stringMatching(/^\d+\.\d+$/) }));
      expect(['mma', 'dp4a']).toContain(info.int8Kernel);
    } else {
      expect(info.reason).toEqual(expect.any(String));
      expect(info.reason!.length).toBeGreaterThan(10);
      expect(info.int8Kernel).toBe('none');
      expect(info.device).toBeNull();
    }
    if (!info.compiled) expect([info.runtimeVersion, info.architectures, devices]).toEqual([null, null, []]);
    if (info.compiled) expect(info.architectures).toMatch(/75/);
    if (info.driverVersion === null) expect(devices).toEqual([]);
  });

  testWhen(process.platform === 'linux' ? undefined : 'reads the ELF dynamic section, so Linux only', 'the addon needs no CUDA library to load (the runtime is linked statically)', () => {
    const needed = neededLibraries(ADDON);
    expect(needed).toContain('libc.so.6');
    expect(needed.filter((lib) => /cuda|cublas|nvrtc/i.test(lib))).toEqual([]);
  });

  test('ONNXFORGE_CUDA=0 turns CUDA off: auto packs for the CPU with the same results, cuda says why', () => {
    const script = `
      const addon = require(${JSON.stringify(ADDON)});
      const b = new Int8Array(${k * n}).map((_, i) => (i * 37) % 255 - 127);
      const w = addon.packInt8Weights(b, ${k}, ${n}, { device: 'auto', scales: Float32Array.of(0.5) });
      const s = addon.packSparse(new Float32Array(${k * n}).map((_, i) => (i % 3 ? 0 : i / 7)), ${k}, ${n}, { device: 'auto' });
      let error = '';
      try { addon.packSparse(new Float32Array(4), 2, 2, { device: 'cuda' }); } catch (e) { error = e.constructor.name + ': ' + e.message; }
      console.log(JSON.stringify({ available: addon.cudaAvailable(), info: addon.cudaInfo(), int8: w.device, sparse: s.device, error }));
    `;
    const r = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ONNXFORGE_CUDA: '0' } });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect([out.available, out.int8, out.sparse]).toEqual([false, 'cpu', 'cpu']);
    expect(out.info.reason).toMatch(info.compiled ? /disabled by ONNXFORGE_CUDA=0/ : /no CUDA kernels/);
    expect(out.error).toMatch(/^Error: CUDA is not available: /);
  });

  test('setInt8Kernel checks its argument; int8OpsPerSecond needs a GPU', () => {
    expect(() => testAddon()._cudaInternals.setInt8Kernel('tensor' as 'mma')).toThrow(TypeError);
    testAddon()._cudaInternals.setInt8Kernel('auto');
    if (!info.available) expect(() => testAddon()._cudaInternals.int8OpsPerSecond(256, 1)).toThrow(/CUDA is not available/);
    expect(() => testAddon()._cudaInternals.int8OpsPerSecond(1, 1)).toThrow(RangeError);
  });
});

describeWhen(info.available ? 'a GPU is present (cuda-kernels.test.ts covers it)' : undefined, `device options without a GPU (${info.reason})`, () => {
  test("'cuda' throws an Error with the reason; 'auto' packs for the CPU", () => {
    const reason = new RegExp(`^CUDA is not available: ${info.reason!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
    expect(() => kernels.packInt8Weights(b, k, n, { device: 'cuda' })).toThrow(reason);
    expect(() => kernels.packSparse(wf, k, n, { device: 'cuda' })).toThrow(reason);
    expect(() => kernels.packSparse(Int8Array.from(b), k, n, { device: 'cuda', scales })).toThrow(reason);
    let error: unknown;
    try {
      kernels.packInt8Weights(b, k, n, { device: 'cuda' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(TypeError);
    expect(kernels.packInt8Weights(b, k, n, { device: 'auto' }).device).toBe('cpu');
    expect(kernels.packSparse(wf, k, n, { device: 'auto' }).device).toBe('cpu');
  });

  test("'auto' handles give the CPU's results", async () => {
    const cpu = kernels.packInt8Weights(b, k, n, { scales });
    const auto = kernels.packInt8Weights(b, k, n, { scales, device: 'auto' });
    expect(kernels.matmulInteger(a, m, k, auto, 7)).toEqual(kernels.matmulInteger(a, m, k, cpu, 7));
    expect(await kernels.linearInt8Async(x, m, k, auto)).toEqual(kernels.linearInt8(x, m, k, cpu));
    const sparseCpu = kernels.packSparse(wf, k, n);
    const sparseAuto = kernels.packSparse(wf, k, n, { device: 'auto' });
    expect(await kernels.matmulSparseAsync(x, m, k, sparseAuto)).toEqual(kernels.matmulSparse(x, m, k, sparseCpu));
  });
});
