// Arena offsets from value lifetimes: each arena value lives from the step that first writes
// it to the last step that reads it (views included); values whose lifetimes overlap never
// share bytes. Greedy by size, largest first, lowest free offset (as TFLite's arena planner).
import { Storage, type PlanStep, type PlanValue } from './lower-context';
import { bytesPerElement } from './tensor-data';

const ALIGN = 64;

export interface MemoryPlan {
  offsets: Map<number, number>;
  arenaBytes: number;
}

export function planMemory(values: readonly PlanValue[], steps: readonly PlanStep[]): MemoryPlan {
  const rootOf = (id: number): number => (values[id].storage === Storage.View ? values[id].index : id);
  const first = new Map<number, number>(), last = new Map<number, number>();
  steps.forEach((step, i) => {
    for (const id of [...step.inputs, ...step.outputs]) {
      if (id < 0) continue;
      const root = rootOf(id);
      if (values[root].storage !== Storage.Arena) continue;
      if (!first.has(root)) first.set(root, i);
      last.set(root, i);
    }
  });
  const buffers = values
    .map((v, id) => ({ id, bytes: Math.ceil((v.count * bytesPerElement(v.dtype)) / ALIGN) * ALIGN }))
    .filter(({ id }) => values[id].storage === Storage.Arena)
    .sort((a, b) => b.bytes - a.bytes || a.id - b.id);
  const placed: { start: number; end: number; from: number; to: number }[] = [];
  const offsets = new Map<number, number>();
  let arenaBytes = 0;
  for (const { id, bytes } of buffers) {
    const start = first.get(id) ?? -1, end = last.get(id) ?? -1;
    const overlapping = placed
      .filter((p) => start >= 0 && p.start >= 0 && p.start <= end && start <= p.end)
      .sort((a, b) => a.from - b.from);
    let offset = 0;
    for (const p of overlapping) {
      if (offset + bytes <= p.from) break;
      offset = Math.max(offset, p.to);
    }
    offsets.set(id, offset);
    placed.push({ start, end, from: offset, to: offset + bytes });
    arenaBytes = Math.max(arenaBytes, offset + bytes);
  }
  return { offsets, arenaBytes };
}
