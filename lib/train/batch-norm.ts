// BatchNormalization in training: normalized with the batch's own mean and variance (written with ops
// that have gradient rules), while the running statistics the inference model uses are moved toward
// them by `momentum`, as BatchNormalization's training mode defines.
import type { Model } from '../onnx/model';
import { floatAttr } from './rules/rule';
import type { FloatType, GraphWriter } from './graph-writer';
import type { ValueShapes } from './probe';

export interface RunningStatistic {
  /** The initializer holding the statistic in the inference model. */
  initializer: string;
  /** Its value after this step. */
  updated: string;
}

/** Rewrites every main-graph BatchNormalization of `model`; returns the running statistics it updates. */
export function batchNormsForTraining(model: Model, w: GraphWriter, shapes: ValueShapes): RunningStatistic[] {
  const updates: RunningStatistic[] = [];
  const initializers = new Set(model.graph.initializer.map((t) => t.name));
  const nodes = model.graph.node.filter((n) => n.opType === 'BatchNormalization' && (n.domain === '' || n.domain === 'ai.onnx'));
  for (const node of nodes) {
    const [x, scale, bias, runningMean, runningVar] = node.input;
    const shape = shapes.get(x);
    if (!shape) continue;
    const dtype = shape.dtype as FloatType;
    const dims = shape.dims;
    const channels = dims[1];
    const axes = [0, ...dims.keys()].filter((a, i) => i === 0 || a >= 2);
    const count = dims.reduce((p, d, i) => (i === 1 ? p : p * d), 1);
    const epsilon = floatAttr(node, 'epsilon', 1e-5);
    const momentum = floatAttr(node, 'momentum', 0.9);
    const perChannel = [1, channels, ...dims.slice(2).map(() => 1)];
    const scalar = (v: number): string => w.scalar(v, dtype);
    const mean = w.op('Mul', [w.reduceSum(x, axes, true), scalar(1 / count)]);
    const centred = w.op('Sub', [x, mean]);
    const variance = w.op('Mul', [w.reduceSum(w.op('Mul', [centred, centred]), axes, true), scalar(1 / count)]);
    const inverse = w.op('Div', [scalar(1), w.op('Sqrt', [w.op('Add', [variance, scalar(epsilon)])])]);
    const scaled = w.op('Mul', [w.op('Mul', [centred, inverse]), w.reshape(scale, perChannel)]);
    w.op('Add', [scaled, w.reshape(bias, perChannel)], {}, node.output[0]);
    const moved = (running: string, batch: string): string =>
      w.op('Add', [w.op('Mul', [running, scalar(momentum)]), w.op('Mul', [w.reshape(batch, [channels]), scalar(1 - momentum)])]);
    if (initializers.has(runningMean)) updates.push({ initializer: runningMean, updated: moved(runningMean, mean) });
    if (initializers.has(runningVar)) updates.push({ initializer: runningVar, updated: moved(runningVar, variance) });
    model.graph.node.splice(model.graph.node.indexOf(node), 1);
  }
  return updates;
}
