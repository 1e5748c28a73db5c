// The gradient of a value that numpy broadcasting stretched: summed back over the axes it was stretched along.
import type { GraphWriter } from '../graph-writer';

/** `grad` (dims `from`) summed down to dims `to`, which broadcast to `from`. */
export function sumToShape(w: GraphWriter, grad: string, from: readonly number[], to: readonly number[]): string {
  const lead = from.length - to.length;
  const axes: number[] = [];
  for (let i = 0; i < from.length; i++) {
    if (i < lead || (to[i - lead] === 1 && from[i] !== 1)) axes.push(i);
  }
  if (axes.length === 0) return grad;
  const summed = w.reduceSum(grad, axes, true);
  // keepdims leaves the leading axes as 1s: only they need reshaping away.
  return lead === 0 ? summed : w.reshape(summed, to);
}
