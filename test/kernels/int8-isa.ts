// Runs int8 cases in child processes, one per ISA path (see int8-child.js).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as v8 from 'v8';
import type { IsaName } from '../../binding';
import { kernels } from '../../lib/kernels';
import { ROOT, TEST_ADDON } from '../helpers/test-addon';

export { ADDON, ROOT } from '../helpers/test-addon';
/** The test addon of a build whose AMX kernels run on emulated tiles (scripts/build-amx-emulated.sh). */
export const AMX_EMULATED_ADDON = path.join(ROOT, 'build', 'amx-emulated', 'Release', 'onnxforge_test.node');

export interface CallCase {
  call: 'quantize' | 'dequantize' | 'quantParams';
  args: unknown[];
}

export interface ChildCase {
  m: number; k: number; n: number; b: Int8Array;
  scales?: Float32Array; zeroPoints?: Int8Array;
  a?: Uint8Array | Int8Array; aZeroPoint?: number | Uint8Array | Int8Array;
  x?: Float32Array; bias?: Float32Array;
  async?: boolean;
}

export interface ChildResult {
  isa: IsaName;
  matmul?: Int32Array; matmulAsync?: Int32Array;
  linear?: Float32Array; linearAsync?: Float32Array;
  value?: unknown;
}

/** A child's ISA cap and the test addon it loads (children use the hooks: guard pages, isa()). */
export interface IsaRun { label: string; isa: IsaName; addon: string; }

const ORDER: IsaName[] = ['scalar', 'avx2', 'avx512vnni', 'amx'];

/**
 * The ISA paths this machine can run: every level up to the detected one, plus
 * AMX on emulated tiles when that build exists and the CPU has no AMX.
 */
export function isaRuns(): { runs: IsaRun[]; skipped: { isa: IsaName; reason: string }[] } {
  const detected = kernels.cpuInfo().detectedIsa;
  const runs: IsaRun[] = [];
  const skipped: { isa: IsaName; reason: string }[] = [];
  for (const isa of ORDER) {
    if (ORDER.indexOf(isa) <= ORDER.indexOf(detected)) {
      runs.push({ label: isa, isa, addon: TEST_ADDON });
    } else if (isa === 'amx' && detected === 'avx512vnni' && fs.existsSync(AMX_EMULATED_ADDON)) {
      runs.push({ label: 'amx (emulated tiles)', isa, addon: AMX_EMULATED_ADDON });
    } else {
      skipped.push({
        isa,
        reason: isa === 'amx'
          ? 'this CPU has no usable AMX (cpuInfo().features["amx-int8"] is false); '
            + 'run scripts/build-amx-emulated.sh to test the AMX kernels on emulated tiles'
          : 'not supported by this CPU',
      });
    }
  }
  return { runs, skipped };
}

/**
 * Runs `cases` in a child process at the ISA of `run`: int8-child.js by default, or `script`, a child
 * of the same protocol (v8-serialized { cases, threads, guard } in, { isa, results } out).
 */
export function runChild<Result = ChildResult>(run: IsaRun, cases: readonly object[],
  opts: { threads?: number; guard?: 'tail' | 'head'; script?: string } = {}): {
  status: number | null; signal: NodeJS.Signals | null; stderr: string; isa?: IsaName; results?: Result[];
} {
  const { script, ...input } = opts;
  const child = spawnSync(process.execPath, [script ?? path.join(__dirname, 'int8-child.js'), run.addon], {
    input: v8.serialize({ cases, ...input }),
    env: { ...process.env, ONNXFORGE_ISA: run.isa },
    maxBuffer: 1 << 30,
    timeout: 120_000,
  });
  const out = { status: child.status, signal: child.signal, stderr: child.stderr.toString() };
  if (child.status !== 0) return out;
  const parsed = v8.deserialize(child.stdout) as { isa: IsaName; results: Result[] };
  return { ...out, ...parsed };
}
