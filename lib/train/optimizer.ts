// The optimizer update, written into the training graph after the gradients, over all parameters at
// once as one flat vector (a few nodes per step, however many tensors the model has): masking (pruned
// weights get no gradient, so they stay exactly zero), clipping to the global gradient norm, then AdamW
// (decoupled weight decay) or SGD with momentum. The learning rate and Adam's bias corrections are fed
// each step, so the schedule lives in JavaScript and the graph never changes.
import type { FloatType, GraphWriter } from './graph-writer';

export type OptimizerKind = 'adamw' | 'sgd';

export interface OptimizerOptions {
  kind: OptimizerKind;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Decoupled weight decay, applied where `decay` says (weights, not biases and norm scales). */
  weightDecay: number;
  /** SGD momentum (0: plain SGD). */
  momentum: number;
  /** Largest global gradient norm; larger gradients are scaled down to it (0: no clipping). */
  clip: number;
}

/** Every trained parameter, flattened and concatenated. */
export interface FlatParameters {
  value: string;
  grad: string;
  size: number;
  dtype: FloatType;
  /** 1 where a value may change, 0 where it was pruned (absent: nothing pruned). */
  mask?: string;
  /** 1 where weight decay applies, 0 elsewhere. */
  decay: string;
}

/** Optimizer state carried from step to step: fed as `input`, its next value is output `output`. */
export interface StateSlot {
  input: string;
  output: string;
}

export interface OptimizerGraph {
  /** Step inputs: learning rate, and Adam's 1/(1-β₁ᵗ), 1/(1-β₂ᵗ). */
  learningRate: string;
  biasCorrections?: [string, string];
  /** The parameters after the step. */
  updated: string;
  slots: StateSlot[];
  /** The global gradient norm before clipping (with clipping). */
  gradNorm?: string;
}

export function appendOptimizer(w: GraphWriter, p: FlatParameters, o: OptimizerOptions): OptimizerGraph {
  const scalar = (v: number): string => w.scalar(v, p.dtype);
  const lr = w.input('learning_rate', p.dtype, []);
  const result: OptimizerGraph = { learningRate: lr, updated: '', slots: [] };
  const slot = (role: string): StateSlot => {
    const s = { input: w.input(role, p.dtype, [p.size]), output: '' };
    result.slots.push(s);
    return s;
  };
  let g = p.mask ? w.op('Mul', [p.grad, p.mask]) : p.grad;
  if (o.clip > 0) {
    const norm = w.op('Sqrt', [w.sumAll(w.op('Mul', [g, g]))]);
    result.gradNorm = norm;
    g = w.op('Mul', [g, w.op('Div', [scalar(o.clip), w.op('Max', [norm, scalar(o.clip)])])]);
  }
  let step: string;
  if (o.kind === 'adamw') {
    result.biasCorrections = [w.input('bias_correction1', p.dtype, []), w.input('bias_correction2', p.dtype, [])];
    const [c1, c2] = result.biasCorrections;
    const m = slot('adam_m');
    const v = slot('adam_v');
    m.output = w.op('Add', [w.op('Mul', [m.input, scalar(o.beta1)]), w.op('Mul', [g, scalar(1 - o.beta1)])]);
    v.output = w.op('Add', [w.op('Mul', [v.input, scalar(o.beta2)]), w.op('Mul', [w.op('Mul', [g, g]), scalar(1 - o.beta2)])]);
    const denominator = w.op('Add', [w.op('Sqrt', [w.op('Mul', [v.output, c2])]), scalar(o.epsilon)]);
    step = w.op('Div', [w.op('Mul', [m.output, c1]), denominator]);
  } else if (o.momentum > 0) {
    const velocity = slot('momentum');
    velocity.output = w.op('Add', [w.op('Mul', [velocity.input, scalar(o.momentum)]), g]);
    step = velocity.output;
  } else {
    step = g;
  }
  if (o.weightDecay > 0) step = w.op('Add', [step, w.op('Mul', [p.value, w.op('Mul', [p.decay, scalar(o.weightDecay)])])]);
  result.updated = w.op('Sub', [p.value, w.op('Mul', [step, lr])]);
  return result;
}
