// Accuracy of linearFloat on every ISA path the machine has, each in its own process
// (the ISA is fixed when the addon loads), against a float64 reference with the bound
// that float-gemm-reference.ts derives from k and float32's rounding.
import * as path from 'path';
import type { IsaName } from '../../binding';
import { runChild } from './int8-isa';
import { floatIsaRuns } from './float-isa';
import { skipTest } from '../helpers/skip';
import { erf, firstOutOfBound, floatCases, linearRef } from './float-gemm-reference';

interface FloatResult { isa: IsaName; y: Float32Array; yAsync: Float32Array }

const CHILD = path.join(__dirname, 'float-gemm-child.js');
const cases = floatCases();
const refs = cases.map(linearRef);
const { runs, skipped } = floatIsaRuns();

test('the float64 erf of the reference matches tabulated values to 1e-13', () => {
  const table: [number, number][] = [
    [0.1, 0.1124629160182849], [0.5, 0.5204998778130465], [1, 0.8427007929497149],
    [2, 0.9953222650189527], [2.9, 0.9999589021219005], [3, 1 - 2.209049699858544e-5], [4, 1 - 1.541725790028002e-8],
  ];
  for (const [z, want] of table) {
    expect(Math.abs(erf(z) - want)).toBeLessThan(1e-13);
    expect(Math.abs(erf(-z) + want)).toBeLessThan(1e-13);
  }
});

describe.each(runs.map((run) => [run.label, run] as const))('linearFloat, ISA %s', (_label, run) => {
  const child = runChild<FloatResult>(run, cases, { threads: 2, script: CHILD });

  test('the child process ran at that ISA', () => {
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    expect(child.isa).toBe(run.isa);
    expect(child.results!.every((r) => r.isa === run.isa)).toBe(true);
  });

  test('every element is within (k + 2) u sum |x w| of float64 (every activation, bias, residual, transposed B, edge shape)', () => {
    const failures: string[] = [];
    cases.forEach((c, i) => {
      const bad = firstOutOfBound(child.results![i].y, refs[i]);
      if (bad) failures.push(`${c.label}: ${bad}`);
    });
    expect(failures).toEqual([]);
  });

  test('linearFloatAsync gives the same bits as linearFloat', () => {
    const differ = cases.filter((_c, i) => {
      const { y, yAsync } = child.results![i];
      return y.length !== yAsync.length || y.some((v, e) => !Object.is(v, yAsync[e]));
    });
    expect(differ.map((c) => c.label)).toEqual([]);
  });
});

for (const { isa, reason } of skipped) skipTest(`linearFloat, ISA ${isa}`, reason);
