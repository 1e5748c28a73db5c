// Pruned weights keep their zeros: every weight (rank 2 and more) with at least 1% exact zeros is taken
// as pruned, and its zeros are masked out of every update. Trained dense weights practically never hold
// exact zeros; pruned ones hold them by the thousand.
import type { Model } from '../onnx/model';
import { decodeTensor, tensorDims } from '../onnx/tensor';
import { dtypeInfo } from '../onnx/dtype';

const PRUNED_FRACTION = 0.01;

export interface MaskedWeight {
  name: string;
  /** Fraction of zeros kept. */
  sparsity: number;
}

export function pruningMasks(model: Model): { masks: Map<string, Float32Array>; weights: MaskedWeight[] } {
  const masks = new Map<string, Float32Array>();
  const weights: MaskedWeight[] = [];
  for (const t of model.graph.initializer) {
    const name = dtypeInfo(t.dataType).name;
    if ((name !== 'float32' && name !== 'float64') || tensorDims(t).length < 2) continue;
    const data = decodeTensor(t, model.externalData).data as Float32Array;
    const mask = new Float32Array(data.length);
    let zeros = 0;
    for (let i = 0; i < data.length; i++) {
      if (data[i] === 0) zeros++;
      else mask[i] = 1;
    }
    if (zeros < PRUNED_FRACTION * data.length) continue;
    masks.set(t.name, mask);
    weights.push({ name: t.name, sparsity: zeros / data.length });
  }
  return { masks, weights };
}

/** Fraction of exact zeros in each named weight of `model`. */
export function weightSparsity(model: Model, names: readonly string[]): Map<string, number> {
  return new Map(names.map((name) => {
    const data = model.initializer(name)?.data as Float32Array;
    let zeros = 0;
    for (let i = 0; i < data.length; i++) if (data[i] === 0) zeros++;
    return [name, zeros / data.length];
  }));
}
