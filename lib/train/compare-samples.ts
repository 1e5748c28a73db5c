// Samples for comparing a trained model with its reference on real data: a few batches of a dataset.
import type { Feeds } from '../engine/tensor';
import { takeRows, type Dataset } from './dataset';

export function compareSamples(data: Dataset, batch: number, count = 4): Feeds[] {
  const samples: Feeds[] = [];
  for (let at = 0; at < data.size && samples.length < count; at += batch) {
    const rows = Array.from({ length: Math.min(batch, data.size - at) }, (_, i) => at + i);
    samples.push(Object.fromEntries(Object.entries(data.inputs).map(([name, t]) => [name, takeRows(t, rows)])));
  }
  return samples;
}
