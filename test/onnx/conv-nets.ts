// Shared by the conv look-alike tests: running a built net through OrtEngine, photo-like test
// images, op counts and logit statistics.
import type { EngineOptions } from '../../lib/engine/engine';
import { OrtEngine } from '../../lib/engine/ort-engine';
import { makeValueInfo, randomNormal, serializeModel, type Model } from '../../lib/onnx';

/** Runs `model` on `input` of shape `dims` and returns every output as float32 with its dims. */
export async function runNet(model: Model, input: Float32Array, dims: number[], options: EngineOptions = {}): Promise<Record<string, { dims: number[]; data: Float32Array }>> {
  const session = await new OrtEngine().load(serializeModel(model), { threads: 1, ...options });
  try {
    const outputs = await session.run({ input: { type: 'float32', dims, data: input } });
    return Object.fromEntries(Object.entries(outputs).map(([name, t]) => [name, { dims: [...t.dims], data: t.data as Float32Array }]));
  } finally {
    await session.dispose();
  }
}

/** The model with intermediate values `names` made graph outputs too (so a run reports their shapes). */
export function exposing(model: Model, names: readonly string[]): Model {
  for (const name of names) model.graph.output.push(makeValueInfo(name, 'float32'));
  return model;
}

/**
 * `batch` images of shape [channels, ...spatial]: noise with a per-image contrast and brightness, so
 * images differ the way photos do and not only in their noise (which global pooling averages away).
 */
export function testImages(dims: readonly number[], seed: number): Float32Array {
  const data = randomNormal(dims.reduce((a, b) => a * b, 1), seed);
  const perImage = data.length / dims[0];
  for (let b = 0; b < dims[0]; b++) {
    const contrast = 0.7 + 0.2 * (b % 4);
    const brightness = 0.3 * ((b % 3) - 1);
    for (let i = b * perImage; i < (b + 1) * perImage; i++) data[i] = data[i] * contrast + brightness;
  }
  return data;
}

export function opCounts(model: Model): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const node of model.graph.node) counts[node.opType] = (counts[node.opType] ?? 0) + 1;
  return counts;
}

function std(values: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < values.length; i++) mean += values[i];
  mean /= values.length;
  let square = 0;
  for (let i = 0; i < values.length; i++) square += (values[i] - mean) ** 2;
  return Math.sqrt(square / values.length);
}

/** Per image: the std of its logits across classes. */
export function logitStds(logits: Float32Array, classes: number): number[] {
  return Array.from({ length: logits.length / classes }, (_, b) => std(logits.subarray(b * classes, (b + 1) * classes)));
}

/** Per class: the std of its logit across the images of the batch, averaged over classes. */
export function spreadAcrossImages(logits: Float32Array, classes: number): number {
  const batch = logits.length / classes;
  let sum = 0;
  for (let c = 0; c < classes; c++) sum += std(Array.from({ length: batch }, (_, b) => logits[b * classes + c]));
  return sum / classes;
}

/** Largest |a - b| relative to the largest |b|. */
export function relativeMaxError(a: Float32Array, b: Float32Array): number {
  let error = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    error = Math.max(error, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return error / scale;
}

/**
 * The checks every conv look-alike passes on a batch of photo-like images: logits [batch, classes],
 * finite, with a per-image spread across classes within [lo, hi] (neither vanished nor blown up),
 * that depends on the image (the spread across images is at least a tenth of it), and, with a
 * symbolic batch, each image's logits equal to those of a batch-1 run of that image alone.
 */
export async function expectSaneLogits(model: Model, imageDims: number[], batch: number, classes: number, band: [number, number]): Promise<void> {
  const dims = [batch, ...imageDims];
  const images = testImages(dims, 17);
  const { logits } = await runNet(model, images, dims);
  expect(logits.dims).toEqual([batch, classes]);
  expect(logits.data.every(Number.isFinite)).toBe(true);
  const stds = logitStds(logits.data, classes);
  for (const s of stds) {
    expect(s).toBeGreaterThan(band[0]);
    expect(s).toBeLessThan(band[1]);
  }
  if (batch === 1) return;
  const meanStd = stds.reduce((a, b) => a + b, 0) / batch;
  expect(spreadAcrossImages(logits.data, classes)).toBeGreaterThan(0.1 * meanStd);
  if (typeof model.inputs[0].dims?.[0] === 'string') {
    const perImage = images.length / batch;
    const last = (await runNet(model, images.subarray((batch - 1) * perImage), [1, ...imageDims])).logits.data;
    expect(relativeMaxError(last, logits.data.subarray((batch - 1) * classes))).toBeLessThan(1e-4);
  }
}
