// Groups calibration samples into onnxruntime runs: samples are stacked along the batch axis when
// every input has a free leading dimension and the samples agree on the other dimensions.
import type { ValueMetadata } from '../../engine/engine';
import type { Feeds, HostTensor, TensorData } from '../../engine/tensor';

function batchable(inputs: readonly ValueMetadata[]): boolean {
  return inputs.length > 0 && inputs.every((i) => i.shape !== null && i.shape.length > 0 && typeof i.shape[0] !== 'number');
}

function sameTrailingDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => i === 0 || d === b[i]);
}

function concat(tensors: HostTensor[]): HostTensor {
  const first = tensors[0];
  if (Array.isArray(first.data)) return { ...first, dims: [tensors.reduce((n, t) => n + t.dims[0], 0), ...first.dims.slice(1)], data: tensors.flatMap((t) => t.data as string[]) };
  const total = tensors.reduce((n, t) => n + (t.data as Exclude<TensorData, string[]>).length, 0);
  const Ctor = (first.data as Exclude<TensorData, string[]>).constructor as new (n: number) => Exclude<TensorData, string[]>;
  const out = new Ctor(total);
  let at = 0;
  for (const t of tensors) {
    const data = t.data as Exclude<TensorData, string[]>;
    (out as unknown as { set(a: ArrayLike<unknown>, o: number): void }).set(data as ArrayLike<unknown>, at);
    at += data.length;
  }
  return { type: first.type, dims: [tensors.reduce((n, t) => n + t.dims[0], 0), ...first.dims.slice(1)], data: out };
}

/** Splits `samples` into runs of up to `size` samples, stacking them where the model allows it. */
export function makeBatches(samples: Feeds[], inputs: readonly ValueMetadata[], size: number): Feeds[] {
  if (size <= 1 || !batchable(inputs)) return samples;
  const out: Feeds[] = [];
  let group: Feeds[] = [];
  const flush = () => {
    if (group.length === 0) return;
    const feeds: Feeds = {};
    for (const input of inputs) feeds[input.name] = concat(group.map((g) => g[input.name]));
    out.push(feeds);
    group = [];
  };
  for (const sample of samples) {
    const fits = group.length === 0 || inputs.every((i) => sameTrailingDims(group[0][i.name].dims, sample[i.name].dims));
    if (!fits || group.length === size) flush();
    group.push(sample);
  }
  flush();
  return out;
}
