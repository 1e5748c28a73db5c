// Overread check: every input and the packed weights lie flush against an inaccessible
// page (after them, then before them), on every ISA path. A read past either edge kills
// the child with SIGSEGV; the results must still be within their bounds.
import * as path from 'path';
import type { IsaName } from '../../binding';
import { runChild } from './int8-isa';
import { floatIsaRuns } from './float-isa';
import { skipTest } from '../helpers/skip';
import { firstOutOfBound, floatCases, linearRef } from './float-gemm-reference';

interface FloatResult { isa: IsaName; y: Float32Array; yAsync: Float32Array }

const CHILD = path.join(__dirname, 'float-gemm-child.js');
const cases = floatCases(11).filter((c) => c.m * c.k * c.n <= 300_000);
const refs = cases.map(linearRef);
const { runs, skipped } = floatIsaRuns();

describe.each(runs.map((run) => [run.label, run] as const))(
  'linearFloat stays inside its buffers, ISA %s', (_label, run) => {
    test.each(['tail', 'head'] as const)('guard pages at the %s of every buffer', (guard) => {
      const child = runChild<FloatResult>(run, cases, { guard, threads: 2, script: CHILD });
      expect(child.signal).toBeNull();
      expect(child.stderr).toBe('');
      expect(child.status).toBe(0);
      const failures = cases.flatMap((c, i) => {
        const bad = firstOutOfBound(child.results![i].y, refs[i]);
        return bad ? [`${c.label}: ${bad}`] : [];
      });
      expect(failures).toEqual([]);
    });
  });

for (const { isa, reason } of skipped) skipTest(`linearFloat guard pages, ISA ${isa}`, reason);
