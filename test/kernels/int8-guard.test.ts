// Overread check: every input and every buffer the kernels allocate lies flush
// against an inaccessible page (after it, then before it), on every ISA path. A
// read past either edge kills the child with SIGSEGV; the results must still be exact.
import { isaRuns, runChild } from './int8-isa';
import { linearCases, matmulCases } from './int8-cases';
import { linearQuantizedRef, matmulIntegerRef } from './int8-reference';
import { skipTest } from '../helpers/skip';

const matmuls = matmulCases().filter((c) => c.m * c.k * c.n <= 300_000);
const linears = linearCases().filter((c) => c.m * c.k * c.n <= 300_000);
const { runs, skipped } = isaRuns();

describe.each(runs.map((run) => [run.label, run] as const))('int8 kernels stay inside their buffers, ISA %s', (_label, run) => {
  test.each(['tail', 'head'] as const)('guard pages at the %s of every buffer', (guard) => {
    const child = runChild(run, [...matmuls, ...linears], { guard, threads: 2 });
    expect(child.signal).toBeNull();
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    matmuls.forEach((c, i) => {
      const za = c.aZeroPoint === undefined ? [0] : typeof c.aZeroPoint === 'number' ? [c.aZeroPoint] : c.aZeroPoint;
      expect(child.results![i].matmul).toEqual(matmulIntegerRef(c.a, c.m, c.k, c.b, c.n, za, c.zeroPoints ?? [0]));
    });
    linears.forEach((c, i) => {
      const want = linearQuantizedRef(c);
      const got = child.results![matmuls.length + i].linear!;
      const worst = want.reduce((w, v, e) => Math.max(w, Math.abs(got[e] - v) / Math.max(1, Math.abs(v))), 0);
      expect(worst).toBeLessThan(1e-5);
    });
  });
});

for (const { isa, reason } of skipped) skipTest(`int8 guard pages, ISA ${isa}`, reason);
