// Runs a training graph in onnxruntime-node, one `run` per step. The carried values (weights, optimizer
// state, running statistics) stay onnxruntime tensors between steps: each step's outputs are fed to the
// next step as they are. Beyond the math, a step costs onnxruntime-node's copy of every output into a
// new JavaScript buffer (inputs are read in place), one copy of the carried values per step.
import * as ort from 'onnxruntime-node';
import { ortSessionOptions } from '../engine/ort-engine';
import type { Model } from '../onnx/model';
import { serializeModel } from '../onnx/save';
import type { OptimizerOptions } from './optimizer';
import type { CarriedValue, TrainingGraph } from './training-graph';

export interface StepResult {
  loss: number;
  gradNorm?: number;
}

const scalarTensor = (value: number, dtype: string): ort.Tensor =>
  new ort.Tensor(dtype as 'float32', dtype === 'float64' ? Float64Array.of(value) : Float32Array.of(value), []);

export class TrainingSession {
  private readonly state = new Map<string, ort.Tensor>();
  private readonly dtype: string;

  private constructor(readonly graph: TrainingGraph, private readonly session: ort.InferenceSession, private readonly optimizer: OptimizerOptions) {
    for (const c of graph.carried) this.state.set(c.input, new ort.Tensor(c.dtype, c.initial.slice(), c.dims));
    this.dtype = graph.carried[0]?.dtype ?? 'float32';
  }

  static async create(graph: TrainingGraph, optimizer: OptimizerOptions, threads?: number): Promise<TrainingSession> {
    const session = await ort.InferenceSession.create(serializeModel(graph.model), ortSessionOptions({ threads }));
    return new TrainingSession(graph, session, optimizer);
  }

  /** One step on `feeds` (data and targets) with learning rate `lr`; `t` counts steps from 1. */
  async step(feeds: Record<string, ort.Tensor>, lr: number, t: number): Promise<StepResult> {
    const all: Record<string, ort.Tensor> = { ...feeds, [this.graph.learningRate]: scalarTensor(lr, this.dtype) };
    if (this.graph.biasCorrections) {
      const [c1, c2] = this.graph.biasCorrections;
      all[c1] = scalarTensor(1 / (1 - this.optimizer.beta1 ** t), this.dtype);
      all[c2] = scalarTensor(1 / (1 - this.optimizer.beta2 ** t), this.dtype);
    }
    for (const [name, tensor] of this.state) all[name] = tensor;
    const out = await this.session.run(all);
    for (const c of this.graph.carried) this.state.set(c.input, out[c.output]);
    const loss = Number((out[this.graph.loss].data as Float32Array)[0]);
    const gradNorm = this.graph.gradNorm ? Number((out[this.graph.gradNorm].data as Float32Array)[0]) : undefined;
    return { loss, gradNorm };
  }

  /** Current carried values by input name. */
  values(): Map<string, Float32Array | Float64Array> {
    return new Map([...this.state].map(([name, t]) => [name, t.data as Float32Array]));
  }

  /** Replace carried values (resuming from a checkpoint); every value must be given with its shape's size. */
  restore(values: Map<string, Float32Array | Float64Array>): void {
    for (const c of this.graph.carried) {
      const v = values.get(c.input);
      if (!v || v.length !== c.initial.length) throw new Error(`the checkpoint lacks "${c.input}" or holds it with another size`);
      this.state.set(c.input, new ort.Tensor(c.dtype, v, c.dims));
    }
  }

  /** A copy of `student` holding the trained parameters and statistics: a plain inference model. */
  trainedModel(student: Model): Model {
    const model = student.clone();
    const flat = this.graph.carried.find((c) => c.kind === 'parameters') as CarriedValue;
    const values = (this.state.get(flat.input) as ort.Tensor).data as Float32Array;
    for (const s of this.graph.layout) {
      if (s.projection) continue;
      const n = s.dims.reduce((a, b) => a * b, 1);
      model.setInitializer(s.name, values.slice(s.offset, s.offset + n), s.dims, flat.dtype);
    }
    for (const c of this.graph.carried) {
      if (!c.initializer) continue;
      const data = (this.state.get(c.input) as ort.Tensor).data as Float32Array;
      model.setInitializer(c.initializer, data.slice(), c.dims, c.dtype);
    }
    return model;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
