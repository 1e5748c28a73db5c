// Rewrites that need no input shapes, done once at load: constant subgraphs folded (weight
// DequantizeLinear, Transpose, Constant chains), the exporters' decomposed LayerNorm and Erf
// GELU recognized, and MatMul/Gemm (float, or DynamicQuantizeLinear -> MatMulInteger -> rescale)
// with constant weights turned into Linear layers with bias and activation folded in.
import { ENGINE_DOMAIN, floatAttr, intAttr, intsAttr, type IrGraph, type IrNode } from './ir';
import { GraphEdit } from './graph-edit';
import type { LinearLayer } from './linear-layers';
import { dequantizeNBits, MS_DOMAIN } from './matmul-nbits';
import { fuseConvs, fuseQdqConvs } from './conv-fusion';
import { fuseConvTransposes } from './conv-transpose-fusion';
import { foldPadsIntoConvs } from './pad-fusion';
import { fuseQConvOutputs, fuseQuantizedLookups } from './lookup-fusion';
import { opDef } from './ops';
import type { Shaped } from './ops/types';
import { tensorFrom, valuesOf, type ConstTensor } from './tensor-data';

const ACTIVATION_OPS: Record<string, string> = { Relu: 'Relu', Tanh: 'Tanh', Sigmoid: 'Sigmoid', Gelu: 'Gelu' };

function scalarValue(t: ConstTensor | undefined): number | undefined {
  return t && t.data.length === 1 ? Number(t.data[0]) : undefined;
}

function near(a: number | undefined, b: number, tolerance = 1e-4): boolean {
  return a !== undefined && Math.abs(a - b) <= tolerance * Math.abs(b);
}

/** The operand of a two-input node that is not `name`. */
function other(node: IrNode, name: string): string | undefined {
  if (node.inputs.length !== 2) return undefined;
  if (node.inputs[0] === name) return node.inputs[1];
  if (node.inputs[1] === name) return node.inputs[0];
  return undefined;
}

/** Folds every node whose inputs are all constants (and whose op can be evaluated). */
export function foldConstants(graph: IrGraph): void {
  const kept: IrNode[] = [];
  for (const node of graph.nodes) {
    const def = node.domain === '' ? opDef('', node.op) : undefined;
    const inputs = node.inputs.map((name): Shaped | undefined => {
      const c = name ? graph.constants.get(name) : undefined;
      return c ? { dtype: c.dtype, dims: c.dims, value: c, name } : undefined;
    });
    const allConstant = node.inputs.every((name, i) => !name || inputs[i] !== undefined);
    if (!def?.fold || !allConstant || node.op === 'Shape' || node.op === 'Size' || inputs.length === 0 || !inputs[0]) {
      kept.push(node);
      continue;
    }
    try {
      const outs = def.fold(node, inputs, graph.opset);
      node.outputs.forEach((o, i) => { if (o && outs[i]) graph.constants.set(o, outs[i]); });
    } catch {
      kept.push(node);
    }
  }
  graph.nodes = kept;
}

function lastAxisOnly(edit: GraphEdit, node: IrNode, opset: number): boolean {
  const axes = opset >= 18 ? (node.inputs[1] ? valuesOf(edit.constant(node.inputs[1]) ?? tensorFrom('int64', [0], [])) : undefined) : intsAttr(node, 'axes');
  return axes !== undefined && axes.length === 1 && axes[0] === -1 && intAttr(node, 'keepdims', 1) === 1;
}

/** ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div[/Mul/Add] over the last axis -> LayerNormalization. */
function fuseLayerNorms(edit: GraphEdit): void {
  const opset = edit.graph.opset;
  for (const div of [...edit.graph.nodes]) {
    if (div.op !== 'Div' || div.domain !== '' || !edit.graph.nodes.includes(div)) continue;
    const [d, s] = div.inputs;
    const sqrt = edit.producedBy(s, 'Sqrt');
    const add = sqrt && edit.producedBy(sqrt.inputs[0], 'Add');
    const epsName = add && (edit.constant(add.inputs[1]) ? add.inputs[1] : edit.constant(add.inputs[0]) ? add.inputs[0] : undefined);
    const varName = add && epsName && other(add, epsName);
    const variance = varName ? edit.producedBy(varName, 'ReduceMean') : undefined;
    const pow = variance && edit.producedBy(variance.inputs[0], 'Pow');
    const sub = edit.producedBy(d, 'Sub');
    const mean = sub && edit.producedBy(sub.inputs[1], 'ReduceMean');
    if (!sqrt || !add || !epsName || !variance || !pow || !sub || !mean) continue;
    if (pow.inputs[0] !== d || !near(scalarValue(edit.constant(pow.inputs[1])), 2, 0) || mean.inputs[0] !== sub.inputs[0]) continue;
    if (!lastAxisOnly(edit, mean, opset) || !lastAxisOnly(edit, variance, opset)) continue;
    const dConsumers = edit.consumersOf(d);
    if (dConsumers.length !== 2 || !dConsumers.includes(pow) || !dConsumers.includes(div)) continue;
    if (!edit.soleConsumer(mean.outputs[0]) || !edit.soleConsumer(pow.outputs[0]) || !edit.soleConsumer(variance.outputs[0]) ||
        !edit.soleConsumer(add.outputs[0]) || !edit.soleConsumer(sqrt.outputs[0])) continue;
    const epsilon = scalarValue(edit.constant(epsName));
    if (epsilon === undefined) continue;
    const removed = [mean, sub, pow, variance, add, sqrt, div];
    let out = div.outputs[0];
    let gamma: string | undefined, beta: string | undefined;
    const mul = edit.soleConsumer(out, 'Mul');
    const gammaName = mul && other(mul, out);
    if (mul && gammaName && edit.constant(gammaName)?.dtype === 'float32') {
      gamma = gammaName;
      removed.push(mul);
      out = mul.outputs[0];
      const biasAdd = edit.soleConsumer(out, 'Add');
      const betaName = biasAdd && other(biasAdd, out);
      if (biasAdd && betaName && edit.constant(betaName)?.dtype === 'float32') {
        beta = betaName;
        removed.push(biasAdd);
        out = biasAdd.outputs[0];
      }
    }
    // Without a scale the shape of one would depend on the input: left unfused.
    if (!gamma) continue;
    edit.replace(removed, [{
      op: 'LayerNormalization', domain: '', name: `${div.name}/fused_layer_norm`,
      inputs: [sub.inputs[0], gamma, ...(beta ? [beta] : [])], outputs: [out], attrs: { axis: -1, epsilon },
    }]);
  }
}

/** x * 0.5 * (1 + erf(x / sqrt(2))) in the exporters' orders -> Gelu. */
function fuseGelus(edit: GraphEdit): void {
  for (const erf of [...edit.graph.nodes]) {
    if (erf.op !== 'Erf' || erf.domain !== '' || !edit.graph.nodes.includes(erf)) continue;
    const scaled = edit.producer(erf.inputs[0]);
    if (!scaled || scaled.domain !== '' || !edit.soleConsumer(scaled.outputs[0])) continue;
    let x: string | undefined;
    for (const operand of scaled.inputs) {
      const c = scalarValue(edit.constant(other(scaled, operand) ?? ''));
      if ((scaled.op === 'Div' && operand === scaled.inputs[0] && near(c, Math.SQRT2)) ||
          (scaled.op === 'Mul' && near(c, Math.SQRT1_2))) x = operand;
    }
    if (!x) continue;
    const plusOne = edit.soleConsumer(erf.outputs[0], 'Add');
    if (!plusOne || !near(scalarValue(edit.constant(other(plusOne, erf.outputs[0]) ?? '')), 1)) continue;
    const times = edit.soleConsumer(plusOne.outputs[0], 'Mul');
    const factor = times && other(times, plusOne.outputs[0]);
    if (!times || !factor) continue;
    let removed: IrNode[] | undefined;
    let out: string | undefined;
    if (factor === x) {
      // (x * (1 + erf)) * 0.5
      const half = edit.soleConsumer(times.outputs[0], 'Mul');
      if (half && near(scalarValue(edit.constant(other(half, times.outputs[0]) ?? '')), 0.5)) {
        removed = [scaled, erf, plusOne, times, half];
        out = half.outputs[0];
      }
    } else {
      // (x * 0.5) * (1 + erf)
      const half = edit.producedBy(factor, 'Mul');
      if (half && other(half, x) !== undefined && near(scalarValue(edit.constant(other(half, x)!)), 0.5) && edit.soleConsumer(factor)) {
        removed = [scaled, erf, plusOne, half, times];
        out = times.outputs[0];
      }
    }
    if (!removed || !out) continue;
    edit.replace(removed, [{ op: 'Gelu', domain: '', name: `${erf.name}/fused_gelu`, inputs: [x], outputs: [out], attrs: {} }]);
  }
}

/**
 * Hard-swish as exporters decompose it, x * Clip(x + 3, 0, 6) / 6 (paddle2onnx) or x * HardSigmoid(x)
 * with alpha 1/6 and beta 1/2 (torch before opset 14) -> HardSwish.
 */
function fuseHardSwishes(edit: GraphEdit): void {
  const swish = (removed: IrNode[], x: string, last: IrNode): void =>
    edit.replace(removed, [{ op: 'HardSwish', domain: '', name: `${last.name}/fused_hard_swish`, inputs: [x], outputs: [last.outputs[0]], attrs: {} }]);
  for (const node of [...edit.graph.nodes]) {
    if (node.domain !== '' || !edit.graph.nodes.includes(node)) continue;
    if (node.op === 'Mul') {
      // x * hard_sigmoid(x)
      for (const x of node.inputs) {
        const gate = other(node, x);
        const removed = gate ? matchHardSigmoidOf(edit, gate, x) : undefined;
        if (removed) {
          swish([...removed, node], x, node);
          break;
        }
      }
    }
    if (!edit.graph.nodes.includes(node) || (node.op !== 'Div' && node.op !== 'Mul')) continue;
    // (x * clip(x + 3, 0, 6)) / 6, as paddle2onnx writes it
    const six = scalarValue(edit.constant(node.inputs[1]));
    if (!(node.op === 'Div' ? near(six, 6) : near(six, 1 / 6))) continue;
    const product = edit.producedBy(node.inputs[0], 'Mul');
    if (!product || !edit.soleConsumer(product.outputs[0])) continue;
    for (const x of product.inputs) {
      const clipped = other(product, x);
      const clip = clipped ? edit.producedBy(clipped, 'Clip') : undefined;
      const removed = clip && edit.soleConsumer(clip.outputs[0]) ? matchClipOf(edit, clip, x) : undefined;
      if (removed) {
        swish([...removed, product, node], x, node);
        break;
      }
    }
  }
}

/** Add(x, 3) -> Clip(0, 6) into `clip`: the nodes, or undefined. */
function matchClipOf(edit: GraphEdit, clip: IrNode, x: string): IrNode[] | undefined {
  const lo = clip.inputs[1] ? scalarValue(edit.constant(clip.inputs[1])) : (clip.attrs.min as number | undefined);
  const hi = clip.inputs[2] ? scalarValue(edit.constant(clip.inputs[2])) : (clip.attrs.max as number | undefined);
  if (lo !== 0 || !near(hi, 6)) return undefined;
  const add = edit.producedBy(clip.inputs[0], 'Add');
  if (!add || !edit.soleConsumer(add.outputs[0]) || other(add, x) === undefined || !near(scalarValue(edit.constant(other(add, x)!)), 3)) return undefined;
  return [add, clip];
}

/** The nodes computing hard_sigmoid(x) = clip(x / 6 + 1/2, 0, 1) into `gate`, read only by the Mul. */
function matchHardSigmoidOf(edit: GraphEdit, gate: string, x: string): IrNode[] | undefined {
  if (!edit.soleConsumer(gate)) return undefined;
  const hs = edit.producedBy(gate, 'HardSigmoid');
  if (hs) {
    return hs.inputs[0] === x && near(floatAttr(hs, 'alpha', 0.2), 1 / 6) && near(floatAttr(hs, 'beta', 0.5), 0.5) ? [hs] : undefined;
  }
  const div = edit.producedBy(gate, 'Div') ?? edit.producedBy(gate, 'Mul');
  if (!div) return undefined;
  const six = scalarValue(edit.constant(div.inputs[1]));
  if (!(div.op === 'Div' ? near(six, 6) : near(six, 1 / 6))) return undefined;
  const clip = edit.producedBy(div.inputs[0], 'Clip');
  if (!clip || !edit.soleConsumer(clip.outputs[0])) return undefined;
  const removed = matchClipOf(edit, clip, x);
  return removed ? [...removed, div] : undefined;
}

/** A bias of n floats from a constant broadcast only along the last axis. */
function biasValues(t: ConstTensor | undefined, n: number): Float32Array | undefined {
  if (!t || t.dtype !== 'float32') return undefined;
  const count = t.data.length;
  if (count === n && t.dims.slice(0, -1).every((d) => d === 1) && (t.dims.length === 0 ? n === 1 : t.dims[t.dims.length - 1] === n)) {
    return Float32Array.from(t.data as Float32Array);
  }
  if (count === 1) return new Float32Array(n).fill(Number(t.data[0]));
  return undefined;
}

interface FusedLinear {
  removed: IrNode[];
  input: string;
  output: string;
  layer: LinearLayer;
  bias?: Float32Array;
}

function floatLinear(edit: GraphEdit, node: IrNode): FusedLinear | undefined {
  if (node.op === 'MatMul') {
    const w = edit.constant(node.inputs[1]);
    if (!w || w.dtype !== 'float32' || w.dims.length !== 2 || edit.constant(node.inputs[0])) return undefined;
    const [k, n] = w.dims;
    return { removed: [node], input: node.inputs[0], output: node.outputs[0], layer: { name: node.name, k, n, weights: w.data as Float32Array, transposed: false } };
  }
  if (node.op !== 'Gemm' || intAttr(node, 'transA', 0) !== 0) return undefined;
  const w = edit.constant(node.inputs[1]);
  if (!w || w.dtype !== 'float32' || w.dims.length !== 2 || edit.constant(node.inputs[0])) return undefined;
  const transposed = intAttr(node, 'transB', 0) === 1;
  const [k, n] = transposed ? [w.dims[1], w.dims[0]] : w.dims;
  const alpha = floatAttr(node, 'alpha', 1), beta = floatAttr(node, 'beta', 1);
  let bias: Float32Array | undefined;
  if (node.inputs[2]) {
    bias = biasValues(edit.constant(node.inputs[2]), n);
    if (!bias) return undefined;
    if (beta !== 1) bias = bias.map((v) => v * beta);
  }
  const weights = alpha === 1 ? (w.data as Float32Array) : (w.data as Float32Array).map((v) => v * alpha);
  return { removed: [node], input: node.inputs[0], output: node.outputs[0], layer: { name: node.name, k, n, weights, transposed }, bias };
}

/** DynamicQuantizeLinear(x) -> MatMulInteger(xq, W, xzp, wzp) -> Cast -> Mul(Mul(x_scale, w_scale)). */
function quantizedLinear(edit: GraphEdit, node: IrNode): FusedLinear | undefined {
  if (node.op !== 'MatMulInteger') return undefined;
  const [xq, wName, xzp, wzpName] = node.inputs;
  const dql = edit.producedBy(xq, 'DynamicQuantizeLinear');
  const w = edit.constant(wName);
  if (!dql || dql.outputs[0] !== xq || dql.outputs[2] !== xzp || !w || w.dims.length !== 2) return undefined;
  if (w.dtype !== 'int8' && w.dtype !== 'uint8') return undefined;
  const [k, n] = w.dims;
  const cast = edit.soleConsumer(node.outputs[0], 'Cast');
  if (!cast || intAttr(cast, 'to', 0) !== 1) return undefined;
  const rescale = edit.soleConsumer(cast.outputs[0], 'Mul');
  const scaleName = rescale && other(rescale, cast.outputs[0]);
  const scaleMul = scaleName ? edit.producedBy(scaleName, 'Mul') : undefined;
  if (!rescale || !scaleMul || !edit.soleConsumer(scaleName!)) return undefined;
  const wScaleName = other(scaleMul, dql.outputs[1]);
  const wScale = wScaleName ? edit.constant(wScaleName) : undefined;
  const scales = biasValues(wScale, n);
  if (!scales) return undefined;
  const wzp = wzpName ? edit.constant(wzpName) : undefined;
  if (wzpName && (!wzp || wzp.dtype !== w.dtype || (wzp.data.length !== 1 && wzp.data.length !== n))) return undefined;
  // uint8 weights become int8 (w - 128) with their zero point moved by the same 128.
  const shift = w.dtype === 'uint8' ? 128 : 0;
  const weights = shift ? Int8Array.from(w.data as Uint8Array, (v) => v - shift) : (w.data as Int8Array);
  const zeroPoints = wzp ? Int8Array.from(valuesOf(wzp), (v) => v - shift) : shift ? Int8Array.of(-shift) : undefined;
  return {
    removed: [node, cast, scaleMul, rescale], input: dql.inputs[0], output: rescale.outputs[0],
    layer: { name: node.name, k, n, weights, transposed: false, scales, zeroPoints },
  };
}

/** MatMulNBits with constant weights: a dense layer of the dequantized weights, its bias input folded. */
function nbitsLinear(edit: GraphEdit, node: IrNode): FusedLinear | undefined {
  if (node.op !== 'MatMulNBits' || node.domain !== MS_DOMAIN || node.inputs[4]) return undefined;
  const b = edit.constant(node.inputs[1]), scales = edit.constant(node.inputs[2]);
  const zeroPoints = node.inputs[3] ? edit.constant(node.inputs[3]) : undefined;
  if (!b || !scales || (node.inputs[3] && !zeroPoints)) return undefined;
  const weights = dequantizeNBits(node, b, scales, zeroPoints);
  if (typeof weights === 'string') return undefined;
  const k = intAttr(node, 'K', 0), n = intAttr(node, 'N', 0);
  let bias: Float32Array | undefined;
  if (node.inputs[5]) {
    bias = biasValues(edit.constant(node.inputs[5]), n);
    if (!bias) return undefined;
  }
  return { removed: [node], input: node.inputs[0], output: node.outputs[0], layer: { name: node.name, k, n, weights, transposed: false }, bias };
}

/** MatMul/Gemm/MatMulInteger/MatMulNBits with constant weights -> Linear, bias and activation folded. */
function fuseLinears(edit: GraphEdit, layers: LinearLayer[]): void {
  for (const node of [...edit.graph.nodes]) {
    if (!edit.graph.nodes.includes(node)) continue;
    const fused = node.domain === MS_DOMAIN ? nbitsLinear(edit, node) : node.domain === '' ? floatLinear(edit, node) ?? quantizedLinear(edit, node) : undefined;
    if (!fused) continue;
    let { output, bias } = fused;
    const removed = [...fused.removed];
    const addBias = !bias ? edit.soleConsumer(output, 'Add') : undefined;
    const biasFrom = addBias ? biasValues(edit.constant(other(addBias, output) ?? ''), fused.layer.n) : undefined;
    if (addBias && biasFrom) {
      bias = biasFrom;
      removed.push(addBias);
      output = addBias.outputs[0];
    }
    let activation = 'None';
    const act = edit.soleConsumer(output);
    if (act && act.domain === '' && ACTIVATION_OPS[act.op] && act.inputs.length === 1) {
      activation = ACTIVATION_OPS[act.op];
      removed.push(act);
      output = act.outputs[0];
    }
    const biasName = bias ? edit.addConstant(`${fused.layer.name}/bias`, { dtype: 'float32', dims: [fused.layer.n], data: bias }) : undefined;
    layers.push(fused.layer);
    edit.replace(removed, [{
      op: 'Linear', domain: ENGINE_DOMAIN, name: fused.layer.name,
      inputs: biasName ? [fused.input, biasName] : [fused.input], outputs: [output],
      attrs: { layer: layers.length - 1, k: fused.layer.k, n: fused.layer.n, activation },
    }]);
  }
}

/** All load-time rewrites; returns the linear layers the graph's Linear nodes refer to. */
export function fuseStatic(graph: IrGraph): LinearLayer[] {
  const layers: LinearLayer[] = [];
  // Before folding: folding would turn a QDQ model's int8 conv weights back into floats.
  fuseQdqConvs(new GraphEdit(graph), layers);
  foldConstants(graph);
  const edit = new GraphEdit(graph);
  edit.removeDead();
  fuseLayerNorms(edit);
  fuseGelus(edit);
  fuseHardSwishes(edit);
  foldPadsIntoConvs(edit, graph.opset);
  fuseConvs(edit, layers);
  fuseConvTransposes(edit, layers);
  fuseLinears(edit, layers);
  // Last: QConv outputs quantized in place, then the pairs no QConv or Linear took as its input.
  fuseQConvOutputs(edit, graph.opset);
  fuseQuantizedLookups(edit, graph.opset);
  edit.removeDead();
  return layers;
}
