// onnxforge inspect MODEL: what a model holds.
import { Command } from 'commander';
import { inspectModel, InspectReport } from '../../inspect/inspect';
import { loadModel } from '../../onnx/load';
import { collectNumberPairs, collectShapes, positiveInt } from '../options';
import { formatBytes } from '../../format-bytes';
import { formatCount, printJson, table } from '../output';

const shapeText = (shape: (number | string)[] | null) => (shape ? `[${shape.join(', ')}]` : '?');

function opLine(counts: Record<string, number>): string {
  return Object.entries(counts).map(([op, n]) => `${op} ${n}`).join(', ');
}

function formatReport(r: InspectReport): string {
  const lines = [
    `${r.file ?? 'model'}: IR v${r.irVersion}, opsets ${r.opsets.map((o) => `${o.domain} ${o.version}`).join(', ')}${r.producer ? `, from ${r.producer}` : ''}`,
    '',
    table(['input', 'dtype', 'shape'], r.inputs.map((i) => [i.name, i.dtype, shapeText(i.shape)])),
    '',
    table(['output', 'dtype', 'shape'], r.outputs.map((o) => [o.name, o.dtype, shapeText(o.shape)])),
    '',
    `nodes: ${r.nodes} — ${opLine(r.opCounts)}`,
    ...r.subgraphs.map((s) => `  ${s.path}: ${s.nodes} nodes — ${opLine(s.opCounts)}`),
    '',
    `parameters: ${formatCount(r.parameters.count)} (${formatBytes(r.parameters.bytes)})`,
    table(['dtype', 'tensors', 'elements', 'bytes'],
      Object.entries(r.parameters.byDtype).map(([d, e]) => [d, e.tensors, formatCount(e.count), formatBytes(e.bytes)])),
  ];
  if (r.externalData.length) {
    lines.push('', table(['external file', 'tensors', 'bytes'], r.externalData.map((e) => [e.file, e.tensors, formatBytes(e.bytes)])));
  }
  if (r.largestTensors.length) {
    lines.push('', table(['largest tensors', 'dtype', 'shape', 'bytes'],
      r.largestTensors.map((t) => [t.name, t.dtype, shapeText(t.dims), formatBytes(t.bytes)])));
  }
  const unknown = r.macs.unknown ? `; ${r.macs.unknown} node(s) with unknown shapes not counted` : '';
  lines.push('', `MACs (MatMul/Gemm/Conv): ${formatCount(r.macs.total)} over ${r.macs.counted} node(s)${unknown}`);
  lines.push(...assumedLines(r));
  const sparse = r.sparsity.filter((l) => l.zeros > 0);
  if (sparse.length) {
    lines.push('', table(['sparse layers', 'op', 'weight', 'params', 'sparsity', 'pattern'],
      sparse.map((l) => [l.layer, l.op, l.weight, formatCount(l.params), `${(100 * l.sparsity).toFixed(1)}%`, l.pattern ?? '-'])));
  }
  return lines.join('\n');
}

/** Which input dims the MAC estimates took as 1, and the flag that sets each. */
function assumedLines(r: InspectReport): string[] {
  const named = [...new Set(r.assumed.filter((a) => a.dim !== null).map((a) => a.dim as string))];
  const lines = named.map((d) => `assumed: ${d}=1 (symbolic; set with --dim ${d}=N)`);
  for (const a of r.assumed.filter((x) => x.dim === null)) {
    const input = r.inputs.find((i) => i.name === a.input);
    const example = (input?.shape ?? []).map((d, axis) => (typeof d === 'number' && d >= 0 ? d : axis === a.axis ? 'N' : 1)).join(',');
    lines.push(`assumed: ${a.input} dim ${a.axis}=1 (unnamed; set with --shape ${a.input}=${example})`);
  }
  return lines;
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('show IR version and opsets, inputs/outputs, op counts (subgraphs included), parameters by dtype, external data, largest tensors and MACs')
    .argument('<model>', 'model (.onnx)')
    .option('--dim <name=value>', 'value of a symbolic input dim for MAC estimates (default 1; repeatable)', collectNumberPairs, {})
    .option('--shape <input=d1,d2,...>', 'whole shape of an input for MAC estimates, unnamed dims included (repeatable)', collectShapes, {})
    .option('--top <n>', 'how many of the largest tensors to list', positiveInt, 10)
    .option('--json', 'print the report as JSON')
    .action((file: string, opts) => {
      const report = inspectModel(loadModel(file), { dims: opts.dim, shapes: opts.shape, top: opts.top });
      if (opts.json) printJson(report);
      else process.stdout.write(formatReport(report) + '\n');
    });
}
