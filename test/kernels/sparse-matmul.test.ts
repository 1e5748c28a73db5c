// matmulSparse against a float64 reference and linearSparseInt8 against the dense int8
// kernel (bit for bit) on every ISA path, each in its own process; then the same with
// every buffer flush against an inaccessible page, so an overread crashes the child.
import { isaRuns, runChild } from './int8-isa';
import * as path from 'path';
import { SparseCase, SparseResult, sparseCases } from './sparse-cases';
import { matmulRef } from './sparse-reference';
import { skipTest } from '../helpers/skip';

const SCRIPT = path.join(__dirname, 'sparse-child.js');
const cases = sparseCases();
const refs = cases.map((c) => (c.w instanceof Float32Array ? matmulRef(c.x, c.m, c.k, c.w, c.n, c.bias) : null));

function countNonzeros(w: Float32Array | Int8Array): number {
  let count = 0;
  for (const v of w) count += v !== 0 ? 1 : 0;
  return count;
}

/** The first element off by more than 1e-5 of sum |x||w| + |bias| (exact when that is 0). */
function floatMismatch(got: Float32Array, ref: { y: Float64Array; scale: Float64Array }): string | null {
  if (got.length !== ref.y.length) return `length ${got.length}, expected ${ref.y.length}`;
  for (let e = 0; e < got.length; e++) {
    if (!(Math.abs(got[e] - ref.y[e]) <= 1e-5 * ref.scale[e])) return `element ${e}: ${got[e]}, expected ${ref.y[e]} (scale ${ref.scale[e]})`;
  }
  return null;
}

function bitMismatch(got: Float32Array, want: Float32Array): string | null {
  if (got.length !== want.length) return `length ${got.length}, expected ${want.length}`;
  for (let e = 0; e < got.length; e++) {
    if (!Object.is(got[e], want[e])) return `element ${e}: ${got[e]}, expected ${want[e]}`;
  }
  return null;
}

function check(c: SparseCase, r: SparseResult, i: number): string | null {
  if (r.nonzeros !== countNonzeros(c.w)) return `nonzeros ${r.nonzeros}, expected ${countNonzeros(c.w)}`;
  if (c.async && !r.yAsync) return 'no async result';
  for (const y of [r.y, r.yAsync].filter(Boolean) as Float32Array[]) {
    const bad = refs[i] ? floatMismatch(y, refs[i]!) : bitMismatch(y, r.dense!);
    if (bad) return bad;
  }
  return null;
}

const { runs, skipped } = isaRuns();
// The AVX-512 kernels serve the AMX level too.
const sparseIsa = (isa: string) => (isa === 'amx' ? 'avx512vnni' : isa);

describe.each(runs.map((run) => [run.label, run] as const))('sparse kernels, ISA %s', (_label, run) => {
  const child = runChild<SparseResult>(run, cases, { threads: 3, script: SCRIPT });

  test('the child process ran at that ISA', () => {
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    expect(child.isa).toBe(sparseIsa(run.isa));
    expect(child.results!.every((r) => r.isa === sparseIsa(run.isa))).toBe(true);
  });

  test('matmulSparse is within 1e-5 of float64; linearSparseInt8 equals linearInt8 bit for bit', () => {
    const failures: string[] = [];
    cases.forEach((c, i) => {
      const bad = check(c, child.results![i], i);
      if (bad) failures.push(`${c.label}: ${bad}`);
    });
    expect(failures).toEqual([]);
  });

  test.each(['tail', 'head'] as const)('no read past either end of any buffer (guard pages: %s)', (guard) => {
    const small = cases.filter((c, i) => c.k * c.n <= 20000 && i % 2 === 0);
    const guarded = runChild<SparseResult>(run, small, { threads: 2, guard, script: SCRIPT });
    expect(guarded.signal).toBeNull();
    expect(guarded.stderr).toBe('');
    const failures = small.map((c, i) => check(c, guarded.results![i], cases.indexOf(c))).filter(Boolean);
    expect(failures).toEqual([]);
  });
});

for (const { isa, reason } of skipped) skipTest(`sparse kernels, ISA ${isa}`, reason);
