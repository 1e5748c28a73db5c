// A model with control flow: If(cond) chooses between two bodies that read the outer input "x".
// Useful for anything that must walk subgraphs. With nested=true the then-branch holds another If.
import { GraphBuilder, type BuildOptions } from '../builder';
import type { Model } from '../model';

export interface IfModelOptions {
  /** Length of the vector input (default 4). */
  size?: number;
  /** Put a second If inside the then-branch (default false). */
  nested?: boolean;
}

/**
 * Inputs "cond" (bool scalar) and "x" [size] float32; output "y" [size]:
 * y = cond ? (x + 1) * 2 : x * 3   (with nested: the then-branch computes (x + 1) * 2 via an inner If).
 */
export function buildIfModel(options: IfModelOptions = {}, build: BuildOptions = {}): Model {
  const { size = 4, nested = false } = options;
  const g = new GraphBuilder('if_model');
  const cond = g.input('cond', 'bool', []);
  const x = g.input('x', 'float32', [size]);
  const one = g.initializer('one', new Float32Array([1]), []);

  const thenBody = g.subgraph('then_body');
  const plusOne = thenBody.node('Add', [x, one]);
  const two = thenBody.initializer('two', new Float32Array([2]), []);
  if (nested) {
    const inner = thenBody.subgraph('inner_body');
    inner.output(inner.node('Mul', [plusOne, two], ['inner_out']), 'float32', [size]);
    const innerElse = thenBody.subgraph('inner_else_body');
    innerElse.output(innerElse.node('Identity', [plusOne], ['inner_else_out']), 'float32', [size]);
    thenBody.node('If', [cond], ['then_out'], { then_branch: inner.buildGraph(), else_branch: innerElse.buildGraph() });
  } else {
    thenBody.node('Mul', [plusOne, two], ['then_out']);
  }
  thenBody.output('then_out', 'float32', [size]);

  const elseBody = g.subgraph('else_body');
  const three = elseBody.initializer('three', new Float32Array([3]), []);
  elseBody.output(elseBody.node('Mul', [x, three], ['else_out']), 'float32', [size]);

  g.node('If', [cond], ['y'], { then_branch: thenBody.buildGraph(), else_branch: elseBody.buildGraph() });
  g.output('y', 'float32', [size]);
  return g.build(build);
}
