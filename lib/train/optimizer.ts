// The optimizer update, written into the training graph after the gradients: masking (pruned weights
// get no gradient, so they stay exactly zero), clipping to a global gradient norm, then AdamW (decoupled
// weight decay) or SGD with momentum. The learning rate and Adam's bias corrections are fed each step,
// so the schedule lives in JavaScript and the graph never changes.
import type { FloatType, GraphWriter } from './graph-writer';

export type OptimizerKind = 'adamw' | 'sgd';

export interface OptimizerOptions {
  kind: OptimizerKind;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Decoupled weight decay, applied to weights of rank 2 and more (not to biases and norm scales). */
  weightDecay: number;
  /** SGD momentum (0: plain SGD). */
  momentum: number;
  /** Largest global gradient norm; larger gradients are scaled down to it (0: no clipping). */
  clip: number;
}

export interface Parameter {
  name: string;
  grad: string;
  dims: number[];
  dtype: FloatType;
  /** An initializer of 1s where the weight may change and 0s where it was pruned. */
  mask?: string;
}

/** Optimizer state carried from step to step: fed as `input`, its next value is output `output`. */
export interface StateSlot {
  input: string;
  output: string;
  dims: number[];
  dtype: FloatType;
}

export interface OptimizerGraph {
  /** Step inputs: learning rate, and Adam's 1/(1-β₁ᵗ), 1/(1-β₂ᵗ). */
  learningRate: string;
  biasCorrections?: [string, string];
  /** Parameter name -> its value after the step. */
  updated: Map<string, string>;
  slots: StateSlot[];
  /** The global gradient norm before clipping (with clipping). */
  gradNorm?: string;
}

function slot(w: GraphWriter, p: Parameter, role: string, slots: StateSlot[]): StateSlot {
  const s: StateSlot = { input: w.input(`${role}/${p.name}`, p.dtype, p.dims), output: '', dims: p.dims, dtype: p.dtype };
  slots.push(s);
  return s;
}

export function appendOptimizer(w: GraphWriter, params: readonly Parameter[], o: OptimizerOptions, dtype: FloatType): OptimizerGraph {
  const scalar = (v: number): string => w.scalar(v, dtype);
  const lr = w.input('learning_rate', dtype, []);
  const grads = params.map((p) => (p.mask ? w.op('Mul', [p.grad, p.mask]) : p.grad));
  const result: OptimizerGraph = { learningRate: lr, updated: new Map(), slots: [] };
  let factor: string | undefined;
  if (o.clip > 0) {
    const squares = grads.map((g) => w.sumAll(w.op('Mul', [g, g])));
    const norm = w.op('Sqrt', [squares.length === 1 ? squares[0] : w.op('Sum', squares)]);
    result.gradNorm = norm;
    factor = w.op('Div', [scalar(o.clip), w.op('Max', [norm, scalar(o.clip)])]);
  }
  if (o.kind === 'adamw') result.biasCorrections = [w.input('bias_correction1', dtype, []), w.input('bias_correction2', dtype, [])];
  params.forEach((p, i) => {
    const g = factor ? w.op('Mul', [grads[i], factor]) : grads[i];
    let step: string;
    if (o.kind === 'adamw') {
      const [c1, c2] = result.biasCorrections as [string, string];
      const m = slot(w, p, 'adam_m', result.slots);
      const v = slot(w, p, 'adam_v', result.slots);
      m.output = w.op('Add', [w.op('Mul', [m.input, scalar(o.beta1)]), w.op('Mul', [g, scalar(1 - o.beta1)])]);
      v.output = w.op('Add', [w.op('Mul', [v.input, scalar(o.beta2)]), w.op('Mul', [w.op('Mul', [g, g]), scalar(1 - o.beta2)])]);
      const denominator = w.op('Add', [w.op('Sqrt', [w.op('Mul', [v.output, c2])]), scalar(o.epsilon)]);
      step = w.op('Div', [w.op('Mul', [m.output, c1]), denominator]);
    } else if (o.momentum > 0) {
      const velocity = slot(w, p, 'momentum', result.slots);
      velocity.output = w.op('Add', [w.op('Mul', [velocity.input, scalar(o.momentum)]), g]);
      step = velocity.output;
    } else {
      step = g;
    }
    if (o.weightDecay > 0 && p.dims.length >= 2) step = w.op('Add', [step, w.op('Mul', [p.name, scalar(o.weightDecay)])]);
    result.updated.set(p.name, w.op('Sub', [p.name, w.op('Mul', [step, lr])]));
  });
  return result;
}
