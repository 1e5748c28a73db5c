// Static shapes a model states: graph inputs (symbolic dims resolved), value_info,
// outputs and initializers, then what propagation through common ops adds.
import type { Model } from '../onnx/model';
import { tensorDims } from '../onnx/tensor';
import type { Dim } from '../onnx/value-info';
import { propagateShapes, type ShapeTable } from './shape-propagation';

export type { ShapeTable };

function resolveDims(dims: Dim[] | undefined, symbols: Record<string, number>): number[] | undefined {
  if (!dims) return undefined;
  const out: number[] = [];
  for (const d of dims) {
    if (typeof d === 'number' && d >= 0) out.push(d);
    else if (typeof d === 'string' && symbols[d] !== undefined) out.push(symbols[d]);
    else return undefined;
  }
  return out;
}

/**
 * Known shapes of main-graph values; symbolic dims come from `symbols`, whole input shapes from
 * `inputShapes`, and dims of graph inputs neither sets are 1.
 */
export function knownShapes(model: Model, symbols: Record<string, number> = {}, inputShapes: Record<string, readonly number[]> = {}): ShapeTable {
  const table: ShapeTable = new Map();
  const g = model.graph;
  for (const t of g.initializer) table.set(t.name, tensorDims(t));
  for (const vi of model.inputs) {
    const whole = inputShapes[vi.name];
    if (whole) {
      table.set(vi.name, [...whole]);
      continue;
    }
    const withDefaults: Record<string, number> = { ...symbols };
    for (const d of vi.dims ?? []) if (typeof d === 'string' && withDefaults[d] === undefined) withDefaults[d] = 1;
    const dims = resolveDims(vi.dims?.map((d) => (d === -1 ? 1 : d)), withDefaults);
    if (dims) table.set(vi.name, dims);
  }
  for (const list of [g.valueInfo, g.output]) {
    for (const proto of list) {
      if (table.has(proto.name)) continue;
      const info = model.valueInfo(proto.name);
      const dims = resolveDims(info?.dims, symbols);
      if (dims) table.set(proto.name, dims);
    }
  }
  propagateShapes(model, table);
  return table;
}
