// A zero Pad of the spatial axes whose only reader is a Conv (how some exporters write asymmetric
// or "same" padding) becomes part of the Conv's own pads: no padded copy of the input is made.
import { intAttr, intsAttr, stringAttr, type IrNode } from './ir';
import type { GraphEdit } from './graph-edit';
import { valuesOf } from './tensor-data';

/** The Pad's pads (begin..., end... over every axis) when it is a zero constant pad without axes. */
function zeroPads(edit: GraphEdit, pad: IrNode, opset: number): number[] | undefined {
  if (stringAttr(pad, 'mode', 'constant') !== 'constant') return undefined;
  if (opset < 11) return intAttr(pad, 'value', 0) === 0 ? intsAttr(pad, 'pads') : undefined;
  if (pad.inputs[3]) return undefined;
  const pads = edit.constant(pad.inputs[1]);
  if (!pads) return undefined;
  if (pad.inputs[2]) {
    const value = edit.constant(pad.inputs[2]);
    if (!value || value.data.length !== 1 || Number(value.data[0]) !== 0) return undefined;
  }
  return valuesOf(pads);
}

export function foldPadsIntoConvs(edit: GraphEdit, opset: number): void {
  for (const pad of [...edit.graph.nodes]) {
    if (pad.op !== 'Pad' || pad.domain !== '' || !edit.graph.nodes.includes(pad)) continue;
    const conv = edit.soleConsumer(pad.outputs[0], 'Conv');
    if (!conv || conv.inputs[0] !== pad.outputs[0] || stringAttr(conv, 'auto_pad', 'NOTSET') !== 'NOTSET') continue;
    const pads = zeroPads(edit, pad, opset);
    if (!pads || pads.length % 2 !== 0 || pads.length < 6) continue;
    const rank = pads.length / 2, spatial = rank - 2;
    if (pads[0] || pads[1] || pads[rank] || pads[rank + 1] || pads.some((p) => p < 0)) continue;
    const own = intsAttr(conv, 'pads') ?? new Array<number>(2 * spatial).fill(0);
    if (own.length !== 2 * spatial) continue;
    const merged = own.map((p, i) => p + (i < spatial ? pads[2 + i] : pads[rank + 2 + i - spatial]));
    edit.replace([pad, conv], [{ ...conv, inputs: [pad.inputs[0], ...conv.inputs.slice(1)], attrs: { ...conv.attrs, pads: merged } }]);
  }
}
