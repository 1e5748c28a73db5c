// Scales and shifts around a convolution, as PaddlePaddle's exporter writes them (its "learnable
// affine" blocks: Mul and Add by constants before and after every activation). Before the
// activation they fold into the weights and bias; after it a scalar pair becomes the step's post
// affine, applied to each block of output while it is still in cache.
import type { IrNode } from './ir';
import type { GraphEdit } from './graph-edit';
import type { ConstTensor } from './tensor-data';

/** The constant operand of a binary `node` whose other operand is `input`. */
function constantOperand(edit: GraphEdit, node: IrNode, input: string): ConstTensor | undefined {
  if (node.domain !== '' || node.inputs.length !== 2) return undefined;
  const other = node.inputs[0] === input ? node.inputs[1] : node.inputs[1] === input ? node.inputs[0] : undefined;
  if (other === undefined || other === input) return undefined;
  const c = edit.constant(other);
  return c && c.dtype === 'float32' ? c : undefined;
}

/** Per-channel values of `c` broadcast against an [N, C, ...spatial] output of rank `rank`, or undefined. */
function perChannel(c: ConstTensor, channels: number, rank: number): Float32Array | undefined {
  const data = c.data as Float32Array;
  if (data.length === 1) return new Float32Array(channels).fill(data[0]);
  if (data.length !== channels || c.dims.length > rank) return undefined;
  const aligned = [...new Array<number>(rank - c.dims.length).fill(1), ...c.dims];
  return aligned.every((d, i) => d === (i === 1 ? channels : 1)) ? data : undefined;
}

export interface ChannelAffine {
  /** Multiplies output channel oc's weights (the bias is scaled here). */
  scaleChannel(oc: number, s: number): void;
  bias: Float32Array;
  outChannels: number;
  rank: number;
}

/** Folds Mul/Add/Sub by per-channel constants after `output` into the weights and bias; returns the new output. */
export function foldChannelAffines(edit: GraphEdit, output: string, removed: IrNode[], target: ChannelAffine): string {
  for (;;) {
    const next = edit.soleConsumer(output);
    if (!next || !['Mul', 'Add', 'Sub'].includes(next.op)) return output;
    const c = constantOperand(edit, next, output);
    const values = c && perChannel(c, target.outChannels, target.rank);
    // x - c folds; c - x would negate the weights as well: left alone.
    if (!values || (next.op === 'Sub' && next.inputs[0] !== output)) return output;
    for (let oc = 0; oc < target.outChannels; oc++) {
      if (next.op === 'Mul') {
        target.scaleChannel(oc, values[oc]);
        target.bias[oc] *= values[oc];
      } else {
        target.bias[oc] += next.op === 'Add' ? values[oc] : -values[oc];
      }
    }
    removed.push(next);
    output = next.outputs[0];
  }
}

/** A scalar Mul and/or Add after the activation: y = activation(...) * scale + shift. */
export function postAffine(edit: GraphEdit, output: string, removed: IrNode[]): { output: string; scale: number; shift: number } | undefined {
  let scale = 1, shift = 0, found = false;
  for (const op of ['Mul', 'Add']) {
    const next = edit.soleConsumer(output, op);
    const c = next && constantOperand(edit, next, output);
    if (!next || !c || c.data.length !== 1) continue;
    if (op === 'Mul') scale = (c.data as Float32Array)[0];
    else shift = (c.data as Float32Array)[0];
    removed.push(next);
    output = next.outputs[0];
    found = true;
  }
  return found ? { output, scale, shift } : undefined;
}
