// The one-line summary of a quantize run (the CLI's first line): what was quantized, what was kept in
// float because its quantized kernel is slower, and whether the result is faster or slower than float.
import type { QuantizeReport } from './report';

export function countByOp(nodes: { opType: string }[]): string {
  const counts = new Map<string, number>();
  for (const n of nodes) counts.set(n.opType, (counts.get(n.opType) ?? 0) + 1);
  return [...counts].map(([op, n]) => `${op} ${n}`).join(', ');
}

export function summaryLine(r: Omit<QuantizeReport, 'summary'>): string {
  const q = r.quantized;
  let line = `${r.mode} quantization (${r.format}): ${q.length} node(s) quantized${q.length ? ` (${countByOp(q)})` : ''}, ${r.skipped.length} skipped`;
  const keptForSpeed = r.skipped.filter((s) => s.detail.startsWith('kept in float') && s.detail.includes('--force'));
  if (keptForSpeed.length) line += ` (${keptForSpeed.length} kept in float where the quantized kernel is slower: ${countByOp(keptForSpeed)})`;
  const ratio = r.verification?.latencyRatio ?? null;
  if (ratio !== null) {
    line += ratio > 1
      ? `; SLOWER than the original: ${(1 / ratio).toFixed(2)}x its speed in onnxruntime`
      : `; ${(1 / ratio).toFixed(2)}x faster than the original in onnxruntime`;
  }
  if (r.verificationSkipped) line += '; not verified (the original fails on its inputs)';
  return line;
}
