// The ISA paths of the float kernels this machine can run. They have no AMX path (the AMX
// level runs the AVX-512 kernels), so AMX is neither run nor reported as skipped.
import { isaRuns, type IsaRun } from './int8-isa';

export function floatIsaRuns(): { runs: IsaRun[]; skipped: ReturnType<typeof isaRuns>['skipped'] } {
  const { runs, skipped } = isaRuns();
  return { runs: runs.filter((run) => run.isa !== 'amx'), skipped: skipped.filter((s) => s.isa !== 'amx') };
}
