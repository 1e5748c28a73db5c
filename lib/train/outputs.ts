// Which output the loss reads: the one named, the only one, or the one called "logits".
import type { Model } from '../onnx/model';

export function logitsOutput(model: Model, given?: string): string {
  const names = model.outputs.map((o) => o.name);
  if (given !== undefined) {
    if (!names.includes(given)) throw new Error(`the model has no output "${given}" (outputs: ${names.join(', ')})`);
    return given;
  }
  if (names.length === 1) return names[0];
  if (names.includes('logits')) return 'logits';
  throw new Error(`the model has outputs ${names.join(', ')}: name the one holding the logits (--output)`);
}
