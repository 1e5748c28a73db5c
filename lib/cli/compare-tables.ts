// How every command prints compare figures: per output, per model, and the speed-up.
import type { CompareReport } from '../compare/compare';
import { formatBytes } from '../format-bytes';
import { table } from './output';

const fixed = (x: number | null | undefined, digits: number): string => (x === null || x === undefined ? '-' : x.toFixed(digits));

/** The figures of `report`, the two models named by `labels` (A, B). */
export function compareTables(report: CompareReport, labels: readonly [string, string]): string[] {
  const lines = [
    table(
      ['output', 'cosine', 'max abs err', 'max rel err', 'mean abs err', 'top-1 agree'],
      report.outputs.map((o) => [o.name, fixed(o.cosine, 6), o.maxAbsError.toExponential(3), o.maxRelativeError.toExponential(3), o.meanAbsError.toExponential(3), fixed(o.top1Agreement, 4)]),
    ),
    '',
    table(
      ['model', 'engine', 'file size', 'load ms', 'median ms', 'p90 ms'],
      ([report.a, report.b] as const).map((m, i) => [labels[i], m.engine, formatBytes(m.fileBytes), m.loadMs.toFixed(1), fixed(m.latency?.medianMs, 3), fixed(m.latency?.p90Ms, 3)]),
    ),
  ];
  if (report.latencyRatio !== null) {
    const where = report.a.engine === report.b.engine ? `in ${report.a.engine === 'ort' ? 'onnxruntime' : 'the native engine'}` : `(${report.b.engine} against ${report.a.engine})`;
    lines.push(`speed-up ${where}: ${(1 / report.latencyRatio).toFixed(2)}x (median ${fixed(report.b.latency?.medianMs, 3)} ms against ${fixed(report.a.latency?.medianMs, 3)} ms)`);
  }
  if (report.accuracy) {
    const acc = report.accuracy;
    lines.push(`top-1 accuracy on ${acc.rows} labelled row(s) of ${acc.output}: ${labels[0]} ${(acc.a * 100).toFixed(2)}%, ${labels[1]} ${(acc.b * 100).toFixed(2)}% (drop ${(acc.drop * 100).toFixed(2)} points)`);
  }
  return lines;
}

/** A pass's result against its input: a heading that says where the inputs came from, then the figures. */
export function againstOriginal(report: CompareReport, result: string, note?: string): string[] {
  const inputs = `${report.samples} ${report.inputsGenerated ? 'generated' : 'given'} sample(s)`;
  return [`against the original (${inputs}${note ? `; ${note}` : ''}):`, ...compareTables(report, ['original', result])];
}
