// The addons built on this machine load on older Linux distributions: they need no glibc symbol
// version above their floor (2.28, Node 20's own) and no system libstdc++ (CMake's
// ONNXFORGE_GLIBC_FLOOR, on by default for glibc builds), and they run on bullseye's glibc 2.31.
import * as fs from 'fs';
import { readElfInfo, newestNeeded, versionAtMost } from '../../scripts/elf-info';
import { glibc231Absent, runNodeOnGlibc231 } from '../helpers/debian-roots';
import { describeWhen, testWhen } from '../helpers/skip';
import { ADDON, TEST_ADDON } from '../helpers/test-addon';
import { kernels } from '../../lib/kernels';

const floor = kernels.buildInfo().glibcFloor;

describeWhen(floor === null ? 'this build has no glibc floor (not a glibc build, or ONNXFORGE_GLIBC_FLOOR=OFF)' : undefined, 'glibc floor', () => {
  test.each([['onnxforge.node', ADDON], ['onnxforge_test.node', TEST_ADDON]])('%s needs glibc <= the floor and no system libstdc++', (_name, file) => {
    const elf = readElfInfo(file);
    const glibc = newestNeeded(elf, 'GLIBC');
    expect({ glibc, atMostFloor: glibc !== null && versionAtMost(glibc, floor!) }).toEqual({ glibc, atMostFloor: true });
    expect([newestNeeded(elf, 'GLIBCXX'), newestNeeded(elf, 'CXXABI')]).toEqual([null, null]);
    expect(Object.keys(elf.versionNeeds)).not.toContain('libstdc++.so.6');
  });

  testWhen(glibc231Absent(), 'the addon loads and its kernels run on glibc 2.31', () => {
    // Threads (pthread), file reading (fstat), CUDA's driver lookup (dlopen) and an exact int8 product.
    const script = `
      const a = require(${JSON.stringify(ADDON)});
      a.setNumThreads(2);
      const w = a.packInt8Weights(Int8Array.from({ length: 64 * 48 }, (_, i) => (i * 7) % 255 - 127), 64, 48);
      const x = Uint8Array.from({ length: 33 * 64 }, (_, i) => (i * 13) % 256);
      const y = a.matmulInteger(x, 33, 64, w);
      let exact = true;
      for (let r = 0; r < 33; r++) for (let c = 0; c < 48; c++) {
        let s = 0;
        for (let k = 0; k < 64; k++) s += x[r * 64 + k] * ((k * 48 + c) * 7 % 255 - 127);
        if (y[r * 48 + c] !== s) exact = false;
      }
      console.log(JSON.stringify({
        glibc: process.report.getReport().header.glibcVersionRuntime,
        version: a.buildInfo().version,
        exact,
        fileBytes: a.readFileLarge(${JSON.stringify(ADDON)}).length,
        cudaCompiled: a.cudaInfo().compiled,
      }));`;
    const r = runNodeOnGlibc231(script);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { glibc: string; version: string; exact: boolean; fileBytes: number; cudaCompiled: boolean };
    expect(out).toEqual({ glibc: '2.31', version: kernels.buildInfo().version, exact: true, fileBytes: fs.statSync(ADDON).size, cudaCompiled: kernels.cudaInfo().compiled });
  });
});
