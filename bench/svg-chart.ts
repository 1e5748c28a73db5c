// A grouped horizontal bar chart as a standalone SVG: one group per row label, one bar per
// series, a dashed line at 1 (for ratio charts). No dependencies; readable on GitHub.
export interface BarChart {
  title: string;
  /** Axis caption, e.g. "speed vs onnxruntime (x)". */
  unit: string;
  series: string[];
  rows: { label: string; values: (number | null)[] }[];
  /** Draw a reference line at this value (e.g. 1 for ratios). */
  reference?: number;
}

const COLORS = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2'];

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function renderBarChart(chart: BarChart): string {
  const labelWidth = 260, plotWidth = 520, barHeight = 14, gap = 10, top = 48, legendHeight = 24;
  const groupHeight = chart.series.length * barHeight + gap;
  const height = top + chart.rows.length * groupHeight + legendHeight + 30;
  const max = Math.max(chart.reference ?? 0, ...chart.rows.flatMap((r) => r.values.filter((v): v is number => v !== null))) * 1.1 || 1;
  const x = (v: number): number => labelWidth + (v / max) * plotWidth;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + plotWidth + 80}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${escape(chart.title)}</text>`,
  ];
  chart.rows.forEach((row, r) => {
    const y0 = top + r * groupHeight;
    parts.push(`<text x="${labelWidth - 6}" y="${y0 + (chart.series.length * barHeight) / 2 + 4}" text-anchor="end">${escape(row.label)}</text>`);
    row.values.forEach((v, s) => {
      if (v === null) return;
      const y = y0 + s * barHeight;
      parts.push(`<rect x="${labelWidth}" y="${y}" width="${Math.max(1, x(v) - labelWidth).toFixed(1)}" height="${barHeight - 2}" fill="${COLORS[s % COLORS.length]}"/>`);
      parts.push(`<text x="${(x(v) + 4).toFixed(1)}" y="${y + barHeight - 4}">${v.toFixed(2)}</text>`);
    });
  });
  const bottom = top + chart.rows.length * groupHeight;
  if (chart.reference !== undefined) {
    parts.push(`<line x1="${x(chart.reference)}" y1="${top - 6}" x2="${x(chart.reference)}" y2="${bottom}" stroke="#333" stroke-dasharray="4 3"/>`);
  }
  parts.push(`<text x="${labelWidth}" y="${bottom + 16}">${escape(chart.unit)}</text>`);
  chart.series.forEach((name, s) => {
    const lx = labelWidth + s * 150;
    parts.push(`<rect x="${lx}" y="${bottom + 26}" width="12" height="10" fill="${COLORS[s % COLORS.length]}"/>`);
    parts.push(`<text x="${lx + 16}" y="${bottom + 35}">${escape(name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
