// The training graph is written at opset 16 or later: scatter-add (ScatterND/ScatterElements reduction,
// opset 16) accumulates embedding and max-pool gradients, and every op the backward pass writes keeps
// one spelling from 16 on. Only the training copy is raised; the trained model keeps the student's opset.
import type { Model } from '../onnx/model';
import { GraphScope } from '../quantize/graph-scope';
import { upgradeOpset } from '../quantize/opset-upgrade';

export const TRAINING_OPSET = 16;

/** Ops whose meaning changed between opsets 13 and 16 (RoiAlign's default coordinate mode). */
const CHANGED_AFTER_13 = new Set(['RoiAlign']);

export class TrainingOpsetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainingOpsetError';
  }
}

/** Raises `model` (a training copy, edited in place) to opset 16 when it is older. */
export function raiseTrainingOpset(model: Model): void {
  const from = model.opsetVersion('') ?? 1;
  if (from >= TRAINING_OPSET) return;
  // Below 13, attributes became inputs and Softmax changed axis semantics: the quantizer's upgrade rewrites them.
  if (from < 13) upgradeOpset(model, new GraphScope(model), 13);
  const changed = model.graph.node.find((n) => (n.domain === '' || n.domain === 'ai.onnx') && CHANGED_AFTER_13.has(n.opType));
  if (changed) throw new TrainingOpsetError(`node "${changed.name}" (${changed.opType}) changed meaning after opset 13; training needs opset ${TRAINING_OPSET}`);
  model.setOpset('', TRAINING_OPSET);
  if (model.irVersion < 8) model.proto.irVersion = 8n;
}
