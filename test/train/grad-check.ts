// Gradient checks: the backward graph's gradients of loss = Σ r·y (r fixed and random, so every output
// element gets its own upstream gradient) against central finite differences of the same loss. The
// forward values for the differences come from onnxruntime in float64, or, for ops onnxruntime runs
// only in float32, from a float64 JavaScript reference of the op.
import * as ort from 'onnxruntime-node';
import { create } from '@bufbuild/protobuf';
import { GraphBuilder } from '../../lib/onnx/builder';
import type { Model } from '../../lib/onnx/model';
import { makeNode, proto } from '../../lib/onnx';
import { createRandom, randomNormal } from '../../lib/onnx/random';
import { serializeModel } from '../../lib/onnx/save';
import { differentiate } from '../../lib/train/autodiff';
import { GraphWriter, type FloatType } from '../../lib/train/graph-writer';
import { probeValues } from '../../lib/train/probe';

export interface GradInput {
  dims: number[];
  /** Integer inputs (indices, conditions) give their values; float inputs default to N(0, 1) samples. */
  dtype?: 'int64' | 'bool';
  values?: number[];
  /** Float inputs: a function of a standard normal sample (e.g. keep values away from a kink). */
  shape?: (v: number) => number;
}

export interface GradCase {
  dtype: FloatType;
  inputs: Record<string, GradInput>;
  wrt: string[];
  /** Writes the op(s) under test; returns the output value. */
  build(g: GraphBuilder, dtype: FloatType): string;
  /** Float64 forward in JavaScript, for ops onnxruntime lacks in float64. */
  reference?: (values: Record<string, Float64Array>) => Float64Array;
  opset?: number;
  /** Step of the central differences (default 1e-6 in float64). */
  eps?: number;
  /** Elements checked per differentiated input, picked at random (default 24). */
  samples?: number;
  seed?: number;
}

export interface GradResult {
  /** max |analytic - numeric| over the checked elements, divided by max |numeric|. */
  relativeError: number;
  checked: number;
  /** max |numeric|: the gradients are not all (trivially) zero. */
  scale: number;
}

function makeFeeds(c: GradCase): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  let seed = c.seed ?? 1;
  for (const [name, input] of Object.entries(c.inputs)) {
    const n = input.dims.reduce((a, b) => a * b, 1);
    if (input.dtype === 'int64') feeds[name] = new ort.Tensor('int64', BigInt64Array.from(input.values ?? [], BigInt), input.dims);
    else if (input.dtype === 'bool') feeds[name] = new ort.Tensor('bool', Uint8Array.from(input.values ?? []), input.dims);
    else {
      const values = Array.from(randomNormal(n, seed++), input.shape ?? ((v) => v));
      feeds[name] = new ort.Tensor(c.dtype, c.dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values), input.dims);
    }
  }
  return feeds;
}

function buildModel(c: GradCase, r?: { data: Float64Array; dims: number[] }): Model {
  const g = new GraphBuilder('grad_check');
  for (const [name, input] of Object.entries(c.inputs)) g.input(name, input.dtype ?? c.dtype, input.dims);
  const y = c.build(g, c.dtype);
  if (!r) {
    g.output(y, c.dtype);
    return g.build({ opset: c.opset ?? 21, validate: false });
  }
  const weights = g.initializer('r', c.dtype === 'float64' ? r.data : Float32Array.from(r.data), r.dims);
  g.node('ReduceSum', [g.node('Mul', [y, weights])], ['loss'], { keepdims: 0 });
  g.output('loss', c.dtype, []);
  g.output(y, c.dtype);
  return g.build({ opset: c.opset ?? 21, validate: false });
}

async function session(model: Model): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(serializeModel(model), { logSeverityLevel: 3, intraOpNumThreads: 1 });
}

export async function checkGradients(c: GradCase): Promise<GradResult> {
  return checkModelGradients(buildModel(c), makeFeeds(c), c.wrt, { reference: c.reference, eps: c.eps, samples: c.samples, seed: c.seed, build: (r) => buildModel(c, r) });
}

export interface ModelCheckOptions {
  reference?: GradCase['reference'];
  eps?: number;
  samples?: number;
  seed?: number;
  /** The forward model with the loss Σ r·y added (default: appended to a copy of the forward model). */
  build?: (r: { data: Float64Array; dims: number[] }) => Model;
}

/** Appends loss = Σ r·y on the model's first output, keeping y an output. */
function withLoss(forward: Model, r: { data: Float64Array; dims: number[] }): Model {
  const model = forward.clone();
  const y = model.graph.output[0].name;
  const dtype = model.outputs[0].dtype;
  const weights = model.uniqueName('r');
  model.setInitializer(weights, dtype === 'float64' ? r.data : Float32Array.from(r.data), r.dims);
  const product = model.uniqueName('r_y');
  model.addNode(makeNode('Mul', [y, weights], [product]));
  model.addNode(makeNode('ReduceSum', [product], ['loss'], { keepdims: 0 }));
  model.graph.output.unshift(create(proto.ValueInfoProtoSchema, { name: 'loss' }));
  return model;
}

/** Gradient check of any forward model whose differentiated values (`wrt`) are graph inputs. */
export async function checkModelGradients(forwardModel: Model, feeds: Record<string, ort.Tensor>, wrt: string[], o: ModelCheckOptions = {}): Promise<GradResult> {
  const forward = await session(forwardModel);
  const outName = forward.outputNames[0];
  const y0 = (await forward.run(feeds))[outName];
  const r = { data: Float64Array.from(randomNormal(y0.data.length, 99)), dims: [...y0.dims] };

  const model = o.build ? o.build(r) : withLoss(forwardModel, r);
  const shapes = await probeValues(model, feeds);
  const grads = differentiate(model, new GraphWriter(model, 'grad.'), { loss: 'loss', wrt, shapes });
  for (const name of wrt) {
    const g = grads.get(name);
    if (g === undefined) throw new Error(`no gradient for ${name}`);
    model.graph.output.push(create(proto.ValueInfoProtoSchema, { name: g }));
  }
  const backward = await session(model);
  const analytic = await backward.run(feeds);

  const lossAt = async (values: Record<string, ort.Tensor>): Promise<number> => {
    let y: ArrayLike<number>;
    if (o.reference) {
      const plain: Record<string, Float64Array> = {};
      for (const [k, t] of Object.entries(values)) plain[k] = Float64Array.from(t.data as ArrayLike<number>, Number);
      y = o.reference(plain);
    } else {
      y = (await forward.run(values))[outName].data as ArrayLike<number>;
    }
    let total = 0;
    for (let i = 0; i < r.data.length; i++) total += r.data[i] * y[i];
    return total;
  };
  const eps = o.eps ?? 1e-6;
  const pick = createRandom(o.seed ?? 7);
  const samples = o.samples ?? 24;
  let maxError = 0;
  let scale = 0;
  let checked = 0;
  for (const name of wrt) {
    const base = feeds[name];
    const n = base.data.length;
    const gradient = analytic[grads.get(name) as string].data as Float32Array | Float64Array;
    const indices = n <= samples ? Array.from({ length: n }, (_, i) => i) : Array.from({ length: samples }, () => Math.floor(pick() * n));
    for (const i of indices) {
      const at = (delta: number): Record<string, ort.Tensor> => {
        // With a reference the perturbed point is float64, so the step is exactly ±eps.
        const data = o.reference ? Float64Array.from(base.data as Float32Array) : (base.data as Float64Array).slice();
        data[i] += delta;
        return { ...feeds, [name]: new ort.Tensor(o.reference ? 'float64' : base.type as 'float32', data, base.dims) };
      };
      const numeric = ((await lossAt(at(eps))) - (await lossAt(at(-eps)))) / (2 * eps);
      maxError = Math.max(maxError, Math.abs(numeric - gradient[i]));
      scale = Math.max(scale, Math.abs(numeric));
      checked++;
    }
  }
  await forward.release();
  await backward.release();
  return { relativeError: scale === 0 ? maxError : maxError / scale, checked, scale };
}
