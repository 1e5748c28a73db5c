// What a gradient rule is given and what it returns. A rule reads one forward node and the gradients of
// its outputs, and writes the nodes that compute the gradients of its inputs.
import { getAttribute, type DecodedAttribute } from '../../onnx/attributes';
import type { DTypeName } from '../../onnx/dtype';
import type { NodeProto } from '../../onnx/gen/onnx_pb';
import type { FloatType, GraphWriter } from '../graph-writer';

export interface GradientContext {
  readonly node: NodeProto;
  readonly w: GraphWriter;
  /** Float type of the node's gradients. */
  readonly dtype: FloatType;
  /** Gradient arriving at output i; undefined when nothing downstream needs it. */
  dOutput(i: number): string | undefined;
  /** Whether input i needs a gradient. */
  needs(i: number): boolean;
  /** Concrete dims of a forward value. */
  dims(name: string): number[];
  /** Element type of a forward value. */
  dtypeOf(name: string): DTypeName;
  /** Elements of a small integer value (axes, shapes, slice bounds), constant or computed from shapes. */
  ints(name: string): number[] | undefined;
  /** Elements of a constant float value (an exponent, a dropout ratio), when it is constant. */
  floats(name: string): number[] | undefined;
  /** Output i of the forward node, added to it when the model did not ask for it (LayerNorm's mean). */
  forwardOutput(i: number): string;
  /** A 0-d constant in the gradient's float type. */
  scalar(value: number): string;
}

export interface GradientRule {
  /** Inputs gradients can flow into; the others (shapes, indices, axes, exponents) are carried. */
  readonly inputs: readonly number[] | 'all';
  /** Why this node cannot be differentiated (an unsupported attribute), checked before training. */
  unsupported?(node: NodeProto, dims: (name: string) => number[], ints: (name: string) => number[] | undefined): string | undefined;
  /** Gradient per input, undefined where none is needed. */
  grad(ctx: GradientContext): (string | undefined)[];
}

export function intAttr(node: NodeProto, name: string, fallback: number): number {
  const v = getAttribute(node, name);
  return typeof v === 'number' ? v : fallback;
}

export function intsAttr(node: NodeProto, name: string): number[] | undefined {
  const v: DecodedAttribute = getAttribute(node, name);
  return Array.isArray(v) ? (v as number[]) : undefined;
}

export function floatAttr(node: NodeProto, name: string, fallback: number): number {
  const v = getAttribute(node, name);
  return typeof v === 'number' ? v : fallback;
}

export function stringAttr(node: NodeProto, name: string, fallback: string): string {
  const v = getAttribute(node, name);
  return typeof v === 'string' ? v : fallback;
}

/** A negative axis counted from the end, made non-negative. */
export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

export const product = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

/** A rule whose gradient flows into input 0 only. */
export function unary(grad: (ctx: GradientContext, dY: string) => string): GradientRule {
  return {
    inputs: [0],
    grad: (ctx) => {
      const dY = ctx.dOutput(0);
      return [dY === undefined ? undefined : grad(ctx, dY)];
    },
  };
}
