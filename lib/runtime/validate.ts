// Checks a request against the model's inputs before it is queued, so a bad request
// fails alone with a 400 and never reaches (or poisons) a batch.
import type { ValueMetadata } from '../engine/engine';
import { elementCount, Feeds } from '../engine/tensor';
import type { TensorSpec } from './config';
import { ModelConfigError } from './config';
import { datatypeOf, tensorTypeOf } from './datatypes';
import { InvalidRequestError } from './errors';

/** The most elements one input may hold (int32 indexing in the engines). */
export const MAX_ELEMENTS = 2 ** 31 - 1;

export function formatShape(shape: ValueMetadata['shape']): string {
  return shape ? `[${shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)).join(', ')}]` : 'any shape';
}

/**
 * The model's own metadata, narrowed by config.json's inputs/outputs when given
 * (names and dtypes must agree with the model; config dims may fix symbolic ones).
 */
export function applyTensorSpecs(model: readonly ValueMetadata[], specs: readonly TensorSpec[] | undefined, kind: string, modelName: string): ValueMetadata[] {
  if (!specs) return [...model];
  const unknown = specs.find((s) => !model.some((m) => m.name === s.name));
  if (unknown) throw new ModelConfigError(`model ${modelName}: config.json names ${kind} ${unknown.name}, which the model does not have`);
  return model.map((meta) => {
    const spec = specs.find((s) => s.name === meta.name);
    if (!spec) return meta;
    if (tensorTypeOf(spec.datatype) !== meta.type) {
      throw new ModelConfigError(`model ${modelName}: config.json ${kind} ${spec.name} is ${spec.datatype}, the model says ${datatypeOf(meta.type)}`);
    }
    if (meta.shape && meta.shape.length !== spec.dims.length) {
      throw new ModelConfigError(`model ${modelName}: config.json ${kind} ${spec.name} has ${spec.dims.length} dims, the model has ${meta.shape.length}`);
    }
    const shape = spec.dims.map((d, i) => {
      const own = meta.shape?.[i];
      if (typeof own === 'number' && own >= 0 && d >= 0 && own !== d) {
        throw new ModelConfigError(`model ${modelName}: config.json ${kind} ${spec.name} dim ${i} is ${d}, the model fixes it at ${own}`);
      }
      return d >= 0 ? d : (own ?? null);
    });
    return { ...meta, shape };
  });
}

/** Validates feeds and requested outputs; returns the request's batch rows (1 when the model does not batch). */
export function validateRequest(
  feeds: Feeds,
  requestedOutputs: readonly string[] | undefined,
  inputs: readonly ValueMetadata[],
  outputs: readonly ValueMetadata[],
  maxBatchSize: number,
): number {
  for (const name of Object.keys(feeds)) {
    if (!inputs.some((i) => i.name === name)) {
      throw new InvalidRequestError(`unexpected input "${name}"; the model's inputs are ${inputs.map((i) => i.name).join(', ')}`);
    }
  }
  let rows: number | undefined;
  for (const input of inputs) {
    const tensor = feeds[input.name];
    if (!tensor) throw new InvalidRequestError(`missing input "${input.name}"`);
    if (tensor.type !== input.type) {
      throw new InvalidRequestError(`input "${input.name}" must be ${datatypeOf(input.type)}, got ${datatypeOf(tensor.type)}`);
    }
    // Zero dims too: an empty tensor has nothing to infer, and onnxruntime's kernels can divide by it
    // (SIGFPE, the whole process). Sizes past int32 elements are refused before any engine sees them.
    if (!tensor.dims.every((d) => Number.isSafeInteger(d) && d >= 1) || elementCount(tensor.dims) > MAX_ELEMENTS) {
      throw new InvalidRequestError(`input "${input.name}" has an invalid shape [${tensor.dims.join(', ')}]: dims must be positive and hold at most ${MAX_ELEMENTS} elements`);
    }
    if (tensor.data.length !== elementCount(tensor.dims)) {
      throw new InvalidRequestError(`input "${input.name}" has ${tensor.data.length} values, its shape [${tensor.dims.join(', ')}] needs ${elementCount(tensor.dims)}`);
    }
    if (input.shape) {
      const fits = input.shape.length === tensor.dims.length && input.shape.every((d, i) => typeof d !== 'number' || d < 0 || d === tensor.dims[i]);
      if (!fits) {
        throw new InvalidRequestError(`input "${input.name}" must have shape ${formatShape(input.shape)}, got [${tensor.dims.join(', ')}]`);
      }
    }
    if (maxBatchSize > 0) {
      const batch = tensor.dims[0];
      if (batch === undefined || batch < 1 || batch > maxBatchSize) {
        throw new InvalidRequestError(`input "${input.name}": batch dim must be 1..${maxBatchSize}, got ${batch ?? 'a scalar'}`);
      }
      if (rows !== undefined && rows !== batch) {
        throw new InvalidRequestError(`inputs disagree on the batch dim (${rows} vs ${batch} for "${input.name}")`);
      }
      rows = batch;
    }
  }
  for (const name of requestedOutputs ?? []) {
    if (!outputs.some((o) => o.name === name)) {
      throw new InvalidRequestError(`unknown output "${name}"; the model's outputs are ${outputs.map((o) => o.name).join(', ')}`);
    }
  }
  return rows ?? 1;
}
