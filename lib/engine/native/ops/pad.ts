// Pad (constant, reflect, edge, wrap; negative pads crop) on the tensor as it lies in memory, so an
// NHWC activation stays NHWC. Pads, the constant and axes must be constants.
import { LoweringError } from '../errors';
import { intsAttr, stringAttr, type IrNode } from '../ir';
import { packedOrder } from '../lower-context';
import { valuesOf } from '../tensor-data';
import { refOf } from './conv-ops';
import type { OpDef, Shaped } from './types';

const MODES: Record<string, number> = { constant: 0, reflect: 1, edge: 2, wrap: 3 };

function fail(node: IrNode, reason: string): never {
  throw new LoweringError(node.name, node.op, reason);
}

interface Padding { begin: number[]; end: number[]; mode: number; value: number }

function paddingOf(node: IrNode, inputs: (Shaped | undefined)[], opset: number): Padding {
  const x = inputs[0]!;
  const rank = x.dims.length;
  const modeName = stringAttr(node, 'mode', 'constant');
  const mode = MODES[modeName];
  if (mode === undefined) fail(node, `mode "${modeName}" is not supported`);
  let pads: number[] | undefined, value = 0;
  if (opset < 11) {
    pads = intsAttr(node, 'pads');
    value = Number(node.attrs.value ?? 0);
  } else {
    pads = inputs[1]?.value ? valuesOf(inputs[1].value) : undefined;
    if (inputs[2]?.value && inputs[2].value.data.length > 0) value = valuesOf(inputs[2].value)[0];
  }
  if (!pads) fail(node, 'needs pads');
  const axes = inputs[3]?.value ? valuesOf(inputs[3].value).map((a) => (a < 0 ? a + rank : a)) : x.dims.map((_, i) => i);
  if (pads.length !== 2 * axes.length) fail(node, `${pads.length} pads for ${axes.length} axes`);
  const begin = new Array<number>(rank).fill(0), end = new Array<number>(rank).fill(0);
  axes.forEach((a, i) => {
    if (a < 0 || a >= rank) fail(node, `axis ${a} is out of range`);
    begin[a] = pads![i];
    end[a] = pads![i + axes.length];
  });
  if (x.dims.some((d, i) => d + begin[i] + end[i] < 0)) fail(node, 'the pads crop more than the input holds');
  if (mode !== 0 && x.dims.some((d, i) => d === 0 && d + begin[i] + end[i] > 0)) fail(node, `${modeName} padding of an empty axis`);
  return { begin, end, mode, value };
}

const pad: OpDef = {
  constInputs: [1, 2, 3],
  infer(node, inputs, opset) {
    const x = inputs[0]!;
    const p = paddingOf(node, inputs, opset);
    return [{ dtype: x.dtype, dims: x.dims.map((d, i) => d + p.begin[i] + p.end[i]) }];
  },
  lower(args) {
    const { ctx, node, shaped, outputs, opset } = args;
    const x = refOf(args, 0);
    const p = paddingOf(node, shaped, opset);
    if (x.dims.length === 0) return [x];
    // Padded in the order x already lies in (an NHWC activation stays NHWC).
    const order = packedOrder(x) ?? x.dims.map((_, i) => i);
    const xp = ctx.packedIn(x, order);
    const out = ctx.arenaInOrder(outputs[0].dtype, outputs[0].dims, order);
    if (outputs[0].dims.every((d) => d > 0)) {
      const physical = (values: number[]) => order.map((axis) => values[axis]);
      ctx.step('Pad', [ctx.flat(xp)], [ctx.flat(out)],
        [x.dims.length, p.mode, ...physical(x.dims), ...physical(outputs[0].dims), ...physical(p.begin)], [p.value]);
    }
    return [out];
  },
};

export const PAD_OPS: Record<string, OpDef> = { Pad: pad };
