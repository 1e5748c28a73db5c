// Training checkpoints: every carried value (weights, optimizer state, running statistics) in one
// safetensors file, with the step reached in its metadata. Written atomically (temporary file, then
// rename), so an interrupted run always leaves the previous checkpoint whole.
import { SafetensorsFile, writeSafetensors } from '../convert/safetensors';
import { viewBytesAs, bytesOf } from '../onnx/tensor';
import type { CarriedValue } from './training-graph';

const FORMAT = 'onnxforge-training-checkpoint';

export interface Checkpoint {
  /** Steps done. */
  step: number;
  values: Map<string, Float32Array | Float64Array>;
}

export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

export function saveCheckpoint(file: string, step: number, carried: readonly CarriedValue[], values: Map<string, Float32Array | Float64Array>): void {
  writeSafetensors(file, carried.map((c) => ({
    name: c.input,
    dtype: c.dtype,
    dims: c.dims,
    bytes: () => bytesOf(values.get(c.input) as Float32Array),
  })), { format: FORMAT, step: String(step) });
}

export function loadCheckpoint(file: string): Checkpoint {
  const st = SafetensorsFile.open(file);
  if (st.metadata.format !== FORMAT) throw new CheckpointError(`${file} is not an onnxforge training checkpoint`);
  const step = Number(st.metadata.step);
  if (!Number.isSafeInteger(step) || step < 0) throw new CheckpointError(`${file}: bad step ${st.metadata.step}`);
  const values = new Map<string, Float32Array | Float64Array>();
  for (const e of st.entries) {
    if (e.dtype !== 'float32' && e.dtype !== 'float64') throw new CheckpointError(`${file}: tensor "${e.name}" is ${e.dtype}`);
    const Ctor = e.dtype === 'float64' ? Float64Array : Float32Array;
    values.set(e.name, viewBytesAs(st.read(e.name), Ctor, e.shape.reduce((a, b) => a * b, 1)) as Float32Array);
  }
  return { step, values };
}
