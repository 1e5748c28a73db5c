// Feeds one model's inputs to another whose float inputs have another precision
// (a float16 conversion against its float32 original): values are converted, not reinterpreted.
import type { ValueMetadata } from '../engine/engine';
import { Feeds, HostTensor, toFloat64 } from '../engine/tensor';
import { float32ToBfloat16, float32ToFloat16 } from '../onnx/float16';

const FLOAT_TYPES = new Set(['float32', 'float64', 'float16', 'bfloat16']);

function convertFloat(tensor: HostTensor, type: string): HostTensor {
  const values = Float32Array.from(toFloat64(tensor));
  const data =
    type === 'float16' ? float32ToFloat16(values)
    : type === 'bfloat16' ? float32ToBfloat16(values)
    : type === 'float64' ? Float64Array.from(values)
    : values;
  return { type: type as HostTensor['type'], dims: tensor.dims, data };
}

export function adaptFeeds(feeds: Feeds, inputs: readonly ValueMetadata[]): Feeds {
  const out: Feeds = { ...feeds };
  for (const input of inputs) {
    const tensor = feeds[input.name];
    if (!tensor || tensor.type === input.type) continue;
    if (FLOAT_TYPES.has(tensor.type) && FLOAT_TYPES.has(input.type)) out[input.name] = convertFloat(tensor, input.type);
  }
  return out;
}
