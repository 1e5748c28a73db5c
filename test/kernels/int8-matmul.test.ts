// Exactness of matmulInteger and accuracy of linearInt8 on every ISA path the
// machine has, each in its own process (the ISA is fixed when the addon loads).
import { isaRuns, runChild } from './int8-isa';
import { linearCases, matmulCases } from './int8-cases';
import { linearFloatRef, linearQuantizedRef, matmulIntegerRef } from './int8-reference';
import { skipTest } from '../helpers/skip';

const matmuls = matmulCases();
const linears = linearCases();
const matmulRefs = matmuls.map((c) => {
  const za = c.aZeroPoint === undefined ? [0] : typeof c.aZeroPoint === 'number' ? [c.aZeroPoint] : c.aZeroPoint;
  return matmulIntegerRef(c.a, c.m, c.k, c.b, c.n, za, c.zeroPoints ?? [0]);
});
const linearRefs = linears.map((c) => ({ quantized: linearQuantizedRef(c), float: linearFloatRef(c) }));

function firstMismatch(got: Int32Array, want: Int32Array): string | null {
  if (got.length !== want.length) return `length ${got.length}, expected ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i]) return `element ${i}: ${got[i]}, expected ${want[i]}`;
  }
  return null;
}

const { runs, skipped } = isaRuns();

describe.each(runs.map((run) => [run.label, run] as const))('int8 kernels, ISA %s', (_label, run) => {
  const child = runChild(run, [...matmuls, ...linears], { threads: 3 });

  test('the child process ran at that ISA', () => {
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    expect(child.isa).toBe(run.isa);
    expect(child.results!.every((r) => r.isa === run.isa)).toBe(true);
  });

  test('matmulInteger equals the reference exactly (u8/s8 A, zero points, every edge shape)', () => {
    const failures: string[] = [];
    matmuls.forEach((c, i) => {
      const r = child.results![i];
      const bad = firstMismatch(r.matmul!, matmulRefs[i]) ?? (r.matmulAsync ? firstMismatch(r.matmulAsync, matmulRefs[i]) : null);
      if (bad) failures.push(`${c.label}: ${bad}`);
    });
    expect(failures).toEqual([]);
  });

  test('linearInt8 matches the quantized replay and is within one quantization step of float64', () => {
    const failures: string[] = [];
    linears.forEach((c, i) => {
      const r = child.results![matmuls.length + i];
      const { quantized, float } = linearRefs[i];
      for (const got of [r.linear!, r.linearAsync].filter(Boolean) as Float32Array[]) {
        for (let e = 0; e < quantized.length; e++) {
          const replay = Math.abs(got[e] - quantized[e]) <= 1e-5 * Math.max(1, Math.abs(quantized[e]));
          const step = Math.abs(got[e] - float.y[e]) <= float.step[e] + 1e-5 * Math.max(1, Math.abs(float.y[e]));
          if (!replay || !step) {
            failures.push(`${c.label}: element ${e}: ${got[e]}, replay ${quantized[e]}, float64 ${float.y[e]} ± ${float.step[e]}`);
            break;
          }
        }
      }
    });
    expect(failures).toEqual([]);
  });
});

for (const { isa, reason } of skipped) skipTest(`int8 kernels, ISA ${isa}`, reason);
