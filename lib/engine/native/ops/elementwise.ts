// Element-wise ops: arithmetic, comparison and logic with broadcasting, unary math and
// activations, Where and Cast.
import { dtypeName, type DTypeName } from '../../../onnx/dtype';
import { elementCount } from '../../../onnx/tensor';
import { LoweringError } from '../errors';
import { floatAttr, intAttr, stringAttr, type IrNode } from '../ir';
import { checkEngineDType, collapse, packedOrder, type ValueRef } from '../lower-context';
import { emptyTensor, setValues, stridesOf, valuesOf, type ConstTensor } from '../tensor-data';
import { broadcastIndex, broadcastShapes, refStridesFor } from './broadcast';
import type { LowerArgs, OpDef, Shaped } from './types';

// Native sub-kinds (native/engine/op_codes.h).
const BINARY_KINDS: Record<string, number> = {
  Add: 0, Sub: 1, Mul: 2, Div: 3, Pow: 4, Max: 5, Min: 6, Sum: 0,
  Equal: 8, Less: 9, Greater: 10, LessOrEqual: 11, GreaterOrEqual: 12, And: 13, Or: 14, Xor: 15,
};
const COMPARISONS = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual']);
const LOGIC = new Set(['And', 'Or', 'Xor']);

export const UNARY_KINDS: Record<string, number> = {
  Identity: 0, Relu: 1, Sigmoid: 2, Tanh: 3, Erf: 4, Sqrt: 5, Exp: 6, Log: 7, Neg: 8, Abs: 9, Reciprocal: 10, Not: 11,
  Gelu: 12, GeluTanh: 13, Clip: 14, LeakyRelu: 15, HardSigmoid: 16, HardSwish: 17, Softplus: 18, Floor: 19, Ceil: 20,
  Round: 21, Sin: 22, Cos: 23, Sign: 24,
};

/** erf to ~1e-15 (series near 0, continued fraction beyond), for folding constants. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let sum = x, term = x;
    for (let n = 1; n < 100; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (ax > 6) return Math.sign(x);
  let f = ax;
  for (let n = 60; n >= 1; n--) f = ax + n / 2 / f;
  return Math.sign(x) * (1 - Math.exp(-ax * ax) / (Math.sqrt(Math.PI) * f));
}

function binaryFn(op: string, integer: boolean): (a: number, b: number) => number {
  switch (op) {
    case 'Add': case 'Sum': return (a, b) => a + b;
    case 'Sub': return (a, b) => a - b;
    case 'Mul': return (a, b) => a * b;
    case 'Div': return integer ? (a, b) => (b === 0 ? 0 : Math.trunc(a / b)) : (a, b) => a / b;
    case 'Pow': return (a, b) => a ** b;
    case 'Max': return (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b));
    case 'Min': return (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b));
    case 'Equal': return (a, b) => Number(a === b);
    case 'Less': return (a, b) => Number(a < b);
    case 'Greater': return (a, b) => Number(a > b);
    case 'LessOrEqual': return (a, b) => Number(a <= b);
    case 'GreaterOrEqual': return (a, b) => Number(a >= b);
    case 'And': return (a, b) => Number(a !== 0 && b !== 0);
    case 'Or': return (a, b) => Number(a !== 0 || b !== 0);
    case 'Xor': return (a, b) => Number((a !== 0) !== (b !== 0));
    default: throw new RangeError(`no binary function ${op}`);
  }
}

function binaryOutType(node: IrNode, a: DTypeName): DTypeName {
  return COMPARISONS.has(node.op) || LOGIC.has(node.op) ? 'bool' : a;
}

function foldBinary(node: IrNode, a: ConstTensor, b: ConstTensor): ConstTensor {
  const dims = broadcastShapes(node, [a.dims, b.dims]);
  const out = emptyTensor(binaryOutType(node, a.dtype), dims);
  const f = binaryFn(node.op, a.dtype !== 'float32' && a.dtype !== 'float64');
  const av = valuesOf(a), bv = valuesOf(b);
  const ia = broadcastIndex(a.dims, dims), ib = broadcastIndex(b.dims, dims);
  const values = new Array<number>(elementCount(dims));
  for (let i = 0; i < values.length; i++) values[i] = f(av[ia(i)], bv[ib(i)]);
  setValues(out, values);
  return out;
}

/** A constant operand converted to the other operand's type (Pow with an integer exponent). */
function matchTypes(node: IrNode, a: Shaped, b: Shaped): [Shaped, Shaped] {
  if (a.dtype === b.dtype) return [a, b];
  const convert = (s: Shaped, to: DTypeName): Shaped => {
    const t = emptyTensor(to, s.value!.dims);
    setValues(t, valuesOf(s.value!));
    return { dtype: to, dims: s.dims, value: t };
  };
  if (b.value) return [a, convert(b, a.dtype)];
  if (a.value) return [convert(a, b.dtype), b];
  throw new LoweringError(node.name, node.op, `operands of types ${a.dtype} and ${b.dtype}`);
}

/**
 * The memory order of an element-wise result: that of the first operand that has the result's
 * dims and is packed (so NHWC stays NHWC through Relu, Add and Mul), else row-major.
 */
export function resultOrder(operands: readonly ValueRef[], dims: readonly number[]): number[] {
  for (const r of operands) {
    if (r.dims.length !== dims.length || r.dims.some((d, i) => d !== dims[i])) continue;
    const order = packedOrder(r);
    if (order) return order;
  }
  return dims.map((_, i) => i);
}

/**
 * A Binary or Where step over operands broadcast to `dims`, the result laid out in `order`: the
 * native loop walks the result front to back, each operand through its strides.
 */
function broadcastStep(args: LowerArgs, op: string, kind: number[], operands: ValueRef[], dims: number[], outDtype: DTypeName): ValueRef {
  const { ctx } = args;
  const order = resultOrder(operands, dims);
  const out = ctx.arenaInOrder(outDtype, dims, order);
  if (elementCount(dims) === 0) return out;
  const physical = order.map((a) => dims[a]);
  const merged = collapse(physical, [stridesOf(physical), ...operands.map((r) => {
    const aligned = refStridesFor(r, dims);
    return order.map((a) => aligned[a]);
  })]);
  ctx.step(op, operands.map((r) => ctx.strided(r)), [ctx.flat(out)],
    [...kind, merged.dims.length, ...merged.dims, ...merged.strides.slice(1).flat()]);
  return out;
}

/** Emits one Binary step: out = a op b with broadcasting; operands may be strided views. */
export function lowerBinary(args: LowerArgs, op: string, a: ValueRef, b: ValueRef, outDtype: DTypeName): ValueRef {
  return broadcastStep(args, 'Binary', [BINARY_KINDS[op]], [a, b], broadcastShapes(args.node, [a.dims, b.dims]), outDtype);
}

function constRef(args: LowerArgs, i: number, s: Shaped): ValueRef {
  return args.inputs[i] ?? args.ctx.constant(s.name, s.value!);
}

const binary: OpDef = {
  infer(node, inputs) {
    const present = inputs.filter((x): x is Shaped => x !== undefined);
    if (present.length === 0) throw new LoweringError(node.name, node.op, 'no inputs');
    for (const s of present) checkEngineDType(node.name, node.op, s.dtype);
    const dims = broadcastShapes(node, present.map((s) => s.dims));
    return [{ dtype: binaryOutType(node, present[0].dtype), dims }];
  },
  fold(node, inputs) {
    let acc = inputs[0]!.value!;
    for (let i = 1; i < inputs.length; i++) {
      const [a, b] = matchTypes(node, { dtype: acc.dtype, dims: acc.dims, value: acc }, inputs[i]!);
      acc = foldBinary(node, a.value!, b.value!);
    }
    return [acc];
  },
  lower(args) {
    const { node, shaped } = args;
    let acc: ValueRef = constRef(args, 0, shaped[0]!);
    let accShaped: Shaped = shaped[0]!;
    if (shaped.length === 1) return [acc];
    for (let i = 1; i < shaped.length; i++) {
      const [a, b] = matchTypes(node, accShaped, shaped[i]!);
      const aRef = a === accShaped ? acc : args.ctx.constant(undefined, a.value!);
      const bRef = b === shaped[i] ? constRef(args, i, shaped[i]!) : args.ctx.constant(undefined, b.value!);
      acc = lowerBinary(args, node.op, aRef, bRef, binaryOutType(node, a.dtype));
      accShaped = { dtype: acc.dtype, dims: acc.dims };
    }
    return [acc];
  },
};

function unaryFn(node: IrNode, kind: string, alpha: number, beta: number): (x: number) => number {
  switch (kind) {
    case 'Identity': return (x) => x;
    case 'Relu': return (x) => Math.max(x, 0);
    case 'Sigmoid': return (x) => 1 / (1 + Math.exp(-x));
    case 'Tanh': return Math.tanh;
    case 'Erf': return erf;
    case 'Sqrt': return Math.sqrt;
    case 'Exp': return Math.exp;
    case 'Log': return Math.log;
    case 'Neg': return (x) => -x;
    case 'Abs': return Math.abs;
    case 'Reciprocal': return (x) => 1 / x;
    case 'Not': return (x) => Number(x === 0);
    case 'Floor': return Math.floor;
    case 'Ceil': return Math.ceil;
    case 'Round': return (x) => { const r = Math.round(x); return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r; };
    case 'Sin': return Math.sin;
    case 'Cos': return Math.cos;
    case 'Sign': return Math.sign;
    case 'Softplus': return (x) => Math.log1p(Math.exp(x));
    case 'Gelu': return (x) => 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 'GeluTanh': return (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    case 'Clip': return (x) => (Number.isNaN(x) ? x : Math.min(Math.max(x, alpha), beta));
    case 'LeakyRelu': return (x) => (x >= 0 ? x : alpha * x);
    case 'HardSigmoid': return (x) => Math.max(0, Math.min(1, alpha * x + beta));
    case 'HardSwish': return (x) => x * Math.max(0, Math.min(1, x / 6 + 0.5));
    default: throw new LoweringError(node.name, node.op, 'no such unary function');
  }
}

interface UnaryParams { kind: string; alpha: number; beta: number }

function unaryParams(node: IrNode, inputs: (Shaped | undefined)[], opset: number): UnaryParams {
  switch (node.op) {
    case 'LeakyRelu': return { kind: node.op, alpha: floatAttr(node, 'alpha', 0.01), beta: 0 };
    case 'HardSigmoid': return { kind: node.op, alpha: floatAttr(node, 'alpha', 0.2), beta: floatAttr(node, 'beta', 0.5) };
    case 'Gelu': return { kind: stringAttr(node, 'approximate', 'none') === 'tanh' ? 'GeluTanh' : 'Gelu', alpha: 0, beta: 0 };
    case 'Clip': {
      if (opset < 11) return { kind: 'Clip', alpha: floatAttr(node, 'min', -3.4028234663852886e38), beta: floatAttr(node, 'max', 3.4028234663852886e38) };
      const bound = (i: number, fallback: number): number => {
        const s = inputs[i];
        if (!s) return fallback;
        if (!s.value) throw new LoweringError(node.name, node.op, 'Clip bounds computed at run time are not supported');
        return valuesOf(s.value)[0];
      };
      const integer = inputs[0]!.dtype !== 'float32';
      return { kind: 'Clip', alpha: bound(1, integer ? -(2 ** 62) : -Infinity), beta: bound(2, integer ? 2 ** 62 : Infinity) };
    }
    default: return { kind: node.op, alpha: 0, beta: 0 };
  }
}

const unary: OpDef = {
  infer(node, inputs) {
    const x = inputs[0]!;
    checkEngineDType(node.name, node.op, x.dtype);
    return [{ dtype: x.dtype, dims: x.dims }];
  },
  foldable: (inputs) => inputs[0]?.value !== undefined,
  fold(node, inputs, opset) {
    const x = inputs[0]!.value!;
    const p = unaryParams(node, inputs, opset);
    const f = unaryFn(node, p.kind, p.alpha, p.beta);
    const out = emptyTensor(x.dtype, x.dims);
    setValues(out, valuesOf(x).map(f));
    return [out];
  },
  lower(args) {
    const { ctx, node, shaped, opset } = args;
    const x = constRef(args, 0, shaped[0]!);
    const p = unaryParams(node, shaped, opset);
    if (p.kind === 'Identity') return [x];
    // A packed input in any order (e.g. NHWC) is mapped element for element into the same order.
    const order = packedOrder(x);
    const input = order ? x : ctx.denseRef(x);
    const out = ctx.arenaInOrder(x.dtype, x.dims, order ?? x.dims.map((_, i) => i));
    if (elementCount(x.dims) === 0) return [out];
    const clamp = (v: number): number => Math.max(-3.4e38, Math.min(3.4e38, v));
    ctx.step('Unary', [ctx.flat(input)], [ctx.flat(out)], [UNARY_KINDS[p.kind]], [clamp(p.alpha), clamp(p.beta)]);
    return [out];
  },
};

const where: OpDef = {
  infer(node, inputs) {
    const [c, x, y] = inputs as Shaped[];
    if (c.dtype !== 'bool') throw new LoweringError(node.name, node.op, 'the condition must be bool');
    if (x.dtype !== y.dtype) throw new LoweringError(node.name, node.op, 'x and y differ in type');
    checkEngineDType(node.name, node.op, x.dtype);
    return [{ dtype: x.dtype, dims: broadcastShapes(node, [c.dims, x.dims, y.dims]) }];
  },
  fold(node, inputs) {
    const [c, x, y] = inputs.map((s) => s!.value!);
    const dims = broadcastShapes(node, [c.dims, x.dims, y.dims]);
    const ic = broadcastIndex(c.dims, dims), ix = broadcastIndex(x.dims, dims), iy = broadcastIndex(y.dims, dims);
    const cv = valuesOf(c), xv = valuesOf(x), yv = valuesOf(y);
    const out = emptyTensor(x.dtype, dims);
    setValues(out, Array.from({ length: elementCount(dims) }, (_, i) => (cv[ic(i)] ? xv[ix(i)] : yv[iy(i)])));
    return [out];
  },
  lower(args) {
    const refs = [0, 1, 2].map((i) => constRef(args, i, args.shaped[i]!));
    return [broadcastStep(args, 'Where', [], refs, broadcastShapes(args.node, refs.map((r) => r.dims)), refs[1].dtype)];
  },
};

const cast: OpDef = {
  infer(node, inputs) {
    const to = dtypeName(intAttr(node, 'to', 1));
    checkEngineDType(node.name, node.op, to);
    return [{ dtype: to, dims: inputs[0]!.dims }];
  },
  fold(node, inputs) {
    const x = inputs[0]!.value!;
    const out = emptyTensor(dtypeName(intAttr(node, 'to', 1)), x.dims);
    const values = valuesOf(x);
    setValues(out, out.dtype === 'float32' || out.dtype === 'bool' ? values : values.map(Math.trunc));
    return [out];
  },
  lower(args) {
    const { ctx, shaped, outputs } = args;
    const x = constRef(args, 0, shaped[0]!);
    checkEngineDType(args.node.name, args.node.op, x.dtype);
    if (x.dtype === outputs[0].dtype) return [x];
    const order = packedOrder(x);
    const input = order ? x : ctx.denseRef(x);
    const out = ctx.arenaInOrder(outputs[0].dtype, x.dims, order ?? x.dims.map((_, i) => i));
    if (elementCount(x.dims) > 0) ctx.step('Cast', [ctx.flat(input)], [ctx.flat(out)]);
    return [out];
  },
};

export const ELEMENTWISE_OPS: Record<string, OpDef> = {
  ...Object.fromEntries(Object.keys(BINARY_KINDS).map((op) => [op, binary])),
  ...Object.fromEntries([...Object.keys(UNARY_KINDS).filter((k) => k !== 'GeluTanh'), 'Clip', 'LeakyRelu', 'HardSigmoid'].map((op) => [op, unary])),
  Where: where,
  Cast: cast,
};
