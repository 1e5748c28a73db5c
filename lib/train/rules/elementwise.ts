// Gradient rules of element-wise ops: arithmetic with numpy broadcasting, activations, Where, Cast, Dropout.
import { dataTypeOf } from '../../onnx/dtype';
import { sumToShape } from './broadcast';
import { floatAttr, unary, type GradientContext, type GradientRule } from './rule';

type Binary = (ctx: GradientContext, dY: string, a: string, b: string) => [string | undefined, string | undefined];

/** Two inputs broadcast against each other: each partial gradient is summed back to its input's shape. */
function binary(partials: Binary): GradientRule {
  return {
    inputs: [0, 1],
    grad: (ctx) => {
      const dY = ctx.dOutput(0);
      if (dY === undefined) return [];
      const [a, b] = ctx.node.input;
      const y = ctx.dims(ctx.node.output[0]);
      const [da, db] = partials(ctx, dY, a, b);
      return [
        da === undefined ? undefined : sumToShape(ctx.w, da, y, ctx.dims(a)),
        db === undefined ? undefined : sumToShape(ctx.w, db, y, ctx.dims(b)),
      ];
    },
  };
}

const zeroWhere = (ctx: GradientContext, keep: string, dY: string): string => ctx.w.op('Where', [keep, dY, ctx.scalar(0)]);

export const add = binary((_ctx, dY) => [dY, dY]);

export const sub = binary((ctx, dY) => [dY, ctx.needs(1) ? ctx.w.op('Neg', [dY]) : undefined]);

export const mul = binary((ctx, dY, a, b) => [
  ctx.needs(0) ? ctx.w.op('Mul', [dY, b]) : undefined,
  ctx.needs(1) ? ctx.w.op('Mul', [dY, a]) : undefined,
]);

// d(a/b)/db = -a/b² = -y/b.
export const div = binary((ctx, dY, _a, b) => [
  ctx.needs(0) ? ctx.w.op('Div', [dY, b]) : undefined,
  ctx.needs(1) ? ctx.w.op('Neg', [ctx.w.op('Mul', [dY, ctx.w.op('Div', [ctx.node.output[0], b])])]) : undefined,
]);

/** Sum of any number of inputs: each gets the output's gradient. */
export const sum: GradientRule = {
  inputs: 'all',
  grad: (ctx) => {
    const dY = ctx.dOutput(0);
    if (dY === undefined) return [];
    const y = ctx.dims(ctx.node.output[0]);
    return ctx.node.input.map((x, i) => (ctx.needs(i) ? sumToShape(ctx.w, dY, y, ctx.dims(x)) : undefined));
  },
};

/** x^p with p carried (an exponent is a constant in the models we train): p·x^(p-1). */
export const pow: GradientRule = {
  inputs: [0],
  grad: (ctx) => {
    const dY = ctx.dOutput(0);
    if (dY === undefined) return [];
    const [x, p] = ctx.node.input;
    const w = ctx.w;
    const constant = ctx.floats(p);
    let local: string;
    if (constant?.length === 1 && constant[0] === 2) local = w.op('Mul', [x, ctx.scalar(2)]);
    else {
      const exponent = w.op('Cast', [p], { to: dataTypeOf(ctx.dtype) });
      local = w.op('Mul', [exponent, w.op('Pow', [x, w.op('Sub', [exponent, ctx.scalar(1)])])]);
    }
    return [sumToShape(w, w.op('Mul', [dY, local]), ctx.dims(ctx.node.output[0]), ctx.dims(x))];
  },
};

export const neg = unary((ctx, dY) => ctx.w.op('Neg', [dY]));
export const identity = unary((_ctx, dY) => dY);
export const sqrt = unary((ctx, dY) => ctx.w.op('Div', [ctx.w.op('Mul', [dY, ctx.scalar(0.5)]), ctx.node.output[0]]));
export const exp = unary((ctx, dY) => ctx.w.op('Mul', [dY, ctx.node.output[0]]));
export const log = unary((ctx, dY) => ctx.w.op('Div', [dY, ctx.node.input[0]]));
export const tanh = unary((ctx, dY) => {
  const y = ctx.node.output[0];
  return ctx.w.op('Mul', [dY, ctx.w.op('Sub', [ctx.scalar(1), ctx.w.op('Mul', [y, y])])]);
});
export const sigmoid = unary((ctx, dY) => {
  const y = ctx.node.output[0];
  return ctx.w.op('Mul', [dY, ctx.w.op('Mul', [y, ctx.w.op('Sub', [ctx.scalar(1), y])])]);
});
// erf'(x) = 2/√π · e^(-x²)
export const erf = unary((ctx, dY) => {
  const x = ctx.node.input[0];
  const w = ctx.w;
  const gauss = w.op('Exp', [w.op('Neg', [w.op('Mul', [x, x])])]);
  return w.op('Mul', [dY, w.op('Mul', [gauss, ctx.scalar(2 / Math.sqrt(Math.PI))])]);
});
// Read from the output (y > 0 exactly where x > 0), so onnxruntime can still fuse the op before with Relu.
export const relu = unary((ctx, dY) => zeroWhere(ctx, ctx.w.op('Greater', [ctx.node.output[0], ctx.scalar(0)]), dY));

/** Clip passes the gradient where min <= x <= max (bounds are inputs from opset 11). */
export const clip = unary((ctx, dY) => {
  const [x, min = '', max = ''] = ctx.node.input;
  const w = ctx.w;
  const conditions = [
    ...(min === '' ? [] : [w.op('GreaterOrEqual', [x, min])]),
    ...(max === '' ? [] : [w.op('LessOrEqual', [x, max])]),
  ];
  if (conditions.length === 0) return dY;
  const inside = conditions.length === 1 ? conditions[0] : w.op('And', conditions);
  return zeroWhere(ctx, inside, dY);
});

// y = max(0, min(1, αx + β)): slope α strictly inside the ramp.
export const hardSigmoid = unary((ctx, dY) => {
  const alpha = floatAttr(ctx.node, 'alpha', 0.2);
  const beta = floatAttr(ctx.node, 'beta', 0.5);
  const w = ctx.w;
  const z = w.op('Add', [w.op('Mul', [ctx.node.input[0], ctx.scalar(alpha)]), ctx.scalar(beta)]);
  const inside = w.op('And', [w.op('Greater', [z, ctx.scalar(0)]), w.op('Less', [z, ctx.scalar(1)])]);
  return zeroWhere(ctx, inside, w.op('Mul', [dY, ctx.scalar(alpha)]));
});

// y = x·relu6(x+3)/6: slope 0 below -3, 1 above 3, (2x+3)/6 between.
export const hardSwish = unary((ctx, dY) => {
  const x = ctx.node.input[0];
  const w = ctx.w;
  const ramp = w.op('Add', [w.op('Mul', [x, ctx.scalar(1 / 3)]), ctx.scalar(0.5)]);
  const slope = w.op('Where', [w.op('Less', [x, ctx.scalar(-3)]), ctx.scalar(0), w.op('Where', [w.op('Greater', [x, ctx.scalar(3)]), ctx.scalar(1), ramp])]);
  return w.op('Mul', [dY, slope]);
});

/** Cast between float types: the gradient is cast back. */
export const cast = unary((ctx, dY) => ctx.w.op('Cast', [dY], { to: dataTypeOf(ctx.dtypeOf(ctx.node.input[0])) }));

/**
 * Dropout is the identity in inference mode (no training_mode input, or a false one); in training mode
 * the gradient takes the same mask and 1/(1-ratio) scale as the values.
 */
export const dropout: GradientRule = {
  inputs: [0],
  grad: (ctx) => {
    const dY = ctx.dOutput(0);
    if (dY === undefined) return [];
    const [, ratioName = '', mode = ''] = ctx.node.input;
    const training = mode !== '' && (ctx.ints(mode)?.[0] ?? 0) !== 0;
    if (!training) return [dY];
    const ratio = ratioName === '' ? 0.5 : (ctx.floats(ratioName)?.[0] ?? 0.5);
    const mask = ctx.w.op('Cast', [ctx.forwardOutput(1)], { to: dataTypeOf(ctx.dtype) });
    return [ctx.w.op('Mul', [ctx.w.op('Mul', [dY, mask]), ctx.scalar(1 / (1 - ratio))])];
  },
};

/** Where(cond, a, b): each branch gets the gradient where it was chosen. */
export const where: GradientRule = {
  inputs: [1, 2],
  grad: (ctx) => {
    const dY = ctx.dOutput(0);
    if (dY === undefined) return [];
    const [cond, a, b] = ctx.node.input;
    const y = ctx.dims(ctx.node.output[0]);
    const zero = ctx.scalar(0);
    return [
      undefined,
      ctx.needs(1) ? sumToShape(ctx.w, ctx.w.op('Where', [cond, dY, zero]), y, ctx.dims(a)) : undefined,
      ctx.needs(2) ? sumToShape(ctx.w, ctx.w.op('Where', [cond, zero, dY]), y, ctx.dims(b)) : undefined,
    ];
  },
};
