// engine-conv --layers: each convolution of a pruned model against the same convolution of the dense model,
// both on the native engine (one thread, per-step timings of NativeSession.profile, the fastest of `runs`
// interleaved profiles), so the sparse kernel's gain shows per layer shape, apart from the rest of the net.
import { NativeEngine } from '../lib/engine/native/native-engine';
import type { Feeds } from '../lib/engine/tensor';

export interface ConvLayerRow {
  model: string;
  /** NHWC input and output of the step: "56x56x64 -> 56x56". */
  shape: string;
  denseMs: number;
  sparseMs: number;
  /** The pruned layer's kernel. */
  kind: string;
}

type Profile = { op: string; ms: number; detail: string }[];

function fastest(profiles: Profile[]): Profile {
  return profiles[0].map((step, i) => ({ ...step, ms: Math.min(...profiles.map((p) => p[i].ms)) }));
}

export async function profileConvLayers(model: string, dense: Uint8Array, sparse: Uint8Array, feeds: Feeds, runs: number): Promise<ConvLayerRow[]> {
  const sessions = [await new NativeEngine().load(dense.slice(), { threads: 1 }), await new NativeEngine().load(sparse.slice(), { threads: 1 })];
  try {
    const profiles: Profile[][] = [[], []];
    for (let r = 0; r < runs; r++) sessions.forEach((s, i) => profiles[i].push(s.profile(feeds)));
    const [d, s] = profiles.map(fastest);
    const kinds = sessions[1].report.layers.map((l) => l.kind);
    let layer = 0;
    const rows: ConvLayerRow[] = [];
    d.forEach((step, i) => {
      if (step.op !== 'Conv') return;
      const [, h, w, c, oh, ow] = step.detail.split(',');
      rows.push({ model, shape: `${h}x${w}x${c} -> ${oh}x${ow}`, denseMs: step.ms, sparseMs: s[i].ms, kind: kinds[layer++] ?? '?' });
    });
    return rows;
  } finally {
    for (const s of sessions) await s.dispose();
  }
}

export function convLayersMarkdown(rows: ConvLayerRow[]): string[] {
  if (rows.length === 0) return [];
  const lines = ['', '## Per convolution: pruned 80% against dense, native engine, 1 thread, batch 1 (--layers)', '',
    'Each Conv step of the pruned model (its kernel) against the same step of the dense model, the fastest of the',
    'interleaved profiles; dense / sparse above 1: the pruned layer is faster.', '',
    '| model | conv (input -> output) | kernel | dense ms | sparse ms | dense / sparse |', '| --- | --- | --- | --- | --- | --- |'];
  for (const r of rows) {
    lines.push(`| ${r.model} | ${r.shape} | ${r.kind} | ${r.denseMs.toFixed(3)} | ${r.sparseMs.toFixed(3)} | **${(r.denseMs / r.sparseMs).toFixed(2)}x** |`);
  }
  return lines;
}
