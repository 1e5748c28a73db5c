// Warm-up feeds: configured values, or deterministic generated inputs at each warm-up batch size.
import type { ValueMetadata } from '../engine/engine';
import type { Feeds, TensorType } from '../engine/tensor';
import { generateFeeds, InputError } from '../compare/inputs';
import { ModelConfigError, ModelConfig } from './config';
import { tensorFromValues } from './tensor-values';

export function warmupFeeds(inputs: readonly ValueMetadata[], config: ModelConfig, modelName: string): Feeds[] {
  const { warmup, maxBatchSize } = config;
  if (warmup.samples === 0) return [];
  if (warmup.inputs) {
    const feeds: Feeds = {};
    for (const input of inputs) {
      const given = warmup.inputs[input.name];
      if (!given) throw new ModelConfigError(`model ${modelName}: config.json warmup.inputs lacks input ${input.name}`);
      feeds[input.name] = tensorFromValues(input.type as TensorType, given.dims, given.data, `warm-up input ${input.name}`);
    }
    return Array.from({ length: warmup.samples }, () => feeds);
  }
  const list: Feeds[] = [];
  for (const batch of maxBatchSize > 0 ? warmup.batchSizes : [1]) {
    // The batch dim is dim 0 of every input when the model batches.
    const shaped = maxBatchSize > 0 ? inputs.map((i) => ({ ...i, shape: i.shape ? [batch, ...i.shape.slice(1)] : i.shape })) : inputs;
    for (let sample = 0; sample < warmup.samples; sample++) {
      try {
        list.push(generateFeeds(shaped, sample, { dims: warmup.dims, values: warmup.values }));
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        const types = [...new Set(inputs.map((i) => i.type))].join(', ');
        throw new ModelConfigError(`model ${modelName}: cannot generate warm-up inputs (types ${types}); give warmup.inputs in config.json, or set warmup.samples to 0`);
      }
    }
  }
  return list;
}
