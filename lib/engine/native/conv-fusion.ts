// Convolutions with constant weights become the engine's Conv (im2col rows times one linear layer
// per group, weights in (kh, kw, c) order to match NHWC windows), DepthwiseConv (weights as
// [kh, kw, c]; a residual Add after a Conv goes into its epilogue) or QConv (a static QDQ model's: quantized input, int8 weights; a depthwise one runs as float DepthwiseConv). A BatchNormalization
// after a Conv is folded into its weights, and a Relu/Sigmoid/Tanh after it into its epilogue.
import { ENGINE_DOMAIN, floatAttr, intAttr, type IrNode } from './ir';
import { foldChannelAffines, postAffine } from './affine-fusion';
import type { GraphEdit } from './graph-edit';
import type { LinearLayer } from './linear-layers';
import { valuesOf, type ConstTensor } from './tensor-data';

const ACTIVATIONS: Record<string, string> = { Relu: 'Relu', Sigmoid: 'Sigmoid', Tanh: 'Tanh', HardSwish: 'HardSwish' };

/** Clip to [0, 6] (ReLU6), with its bounds as attributes (opset < 11) or constant inputs. */
export function isRelu6(edit: GraphEdit, node: IrNode): boolean {
  if (node.op !== 'Clip' || node.domain !== '') return false;
  const lo = node.inputs[1] ? scalarOf(edit.constant(node.inputs[1])) : node.attrs.min;
  const hi = node.inputs[2] ? scalarOf(edit.constant(node.inputs[2])) : node.attrs.max;
  return lo === 0 && hi === 6;
}

export interface ConvWeights {
  /** [OC, Cg, ...kernel] as float32 (or int8 with per-OC scales for QConv). */
  values: Float32Array | Int8Array;
  outChannels: number;
  groupChannels: number;
  kernel: number[];
  scales?: Float32Array;
}

function floatWeights(t: ConstTensor | undefined): ConvWeights | undefined {
  if (!t || t.dtype !== 'float32' || (t.dims.length !== 3 && t.dims.length !== 4)) return undefined;
  return { values: t.data as Float32Array, outChannels: t.dims[0], groupChannels: t.dims[1], kernel: t.dims.slice(2) };
}

/** BatchNormalization(y) with constant parameters folded into the weights and bias of y = Conv(x). */
function foldBatchNorm(edit: GraphEdit, bn: IrNode, w: ConvWeights, bias: Float32Array): boolean {
  const [, scaleName, shiftName, meanName, varName] = bn.inputs;
  const params = [scaleName, shiftName, meanName, varName].map((n) => edit.constant(n));
  if (params.some((p) => !p || p.dtype !== 'float32' || p.data.length !== w.outChannels) || intAttr(bn, 'training_mode', 0)) return false;
  const [scale, shift, mean, variance] = params.map((p) => p!.data as Float32Array);
  const epsilon = floatAttr(bn, 'epsilon', 1e-5);
  const perChannel = w.values.length / w.outChannels;
  const values = Float32Array.from(w.values as Float32Array);
  for (let oc = 0; oc < w.outChannels; oc++) {
    const s = scale[oc] / Math.sqrt(variance[oc] + epsilon);
    for (let i = 0; i < perChannel; i++) values[oc * perChannel + i] *= s;
    bias[oc] = (bias[oc] - mean[oc]) * s + shift[oc];
  }
  w.values = values;
  return true;
}

/**
 * Whether x is a pooled 1 x 1 map (squeeze-excite): a global pool's output, or a conv or activation over one.
 * A conv there multiplies one row per image, as a linear layer does, not one per output pixel.
 */
function readsPooledMap(edit: GraphEdit, x: string, depth = 0): boolean {
  const p = edit.producer(x);
  if (!p || depth > 4) return false;
  if (p.domain === '' && (p.op === 'GlobalAveragePool' || p.op === 'GlobalMaxPool')) return true;
  const passesThrough = p.op === 'Conv' || ACTIVATIONS[p.op] !== undefined || p.op === 'Clip' || p.op === 'HardSigmoid';
  return passesThrough && p.inputs[0] !== undefined && readsPooledMap(edit, p.inputs[0], depth + 1);
}

/** The layer of group g: B[(ky * KW + kx) * Cg + c][j] = W[g * OCg + j][c][ky][kx]. */
function groupLayer(name: string, w: ConvWeights, groups: number, g: number, overPixels: boolean): LinearLayer {
  const ocg = w.outChannels / groups, cg = w.groupChannels;
  const taps = w.kernel.reduce((p, d) => p * d, 1);
  const k = taps * cg;
  const quantized = w.values instanceof Int8Array;
  const out = quantized ? new Int8Array(k * ocg) : new Float32Array(k * ocg);
  for (let j = 0; j < ocg; j++) {
    const base = (g * ocg + j) * cg * taps;
    for (let c = 0; c < cg; c++) for (let t = 0; t < taps; t++) out[(t * cg + c) * ocg + j] = w.values[base + c * taps + t];
  }
  return {
    name: groups > 1 ? `${name}/group${g}` : name, k, n: ocg, weights: out, transposed: false, conv: overPixels,
    ...(w.scales ? { scales: w.scales.slice(g * ocg, (g + 1) * ocg) } : {}),
  };
}

function geometryAttrs(conv: IrNode, w: ConvWeights, groups: number) {
  return {
    kernel: w.kernel, groups, outChannels: w.outChannels,
    strides: conv.attrs.strides, pads: conv.attrs.pads, dilations: conv.attrs.dilations, auto_pad: conv.attrs.auto_pad,
  };
}

export function fuseActivation(edit: GraphEdit, output: string, removed: IrNode[]): { output: string; activation: string } {
  const act = edit.soleConsumer(output);
  if (!act || act.domain !== '') return { output, activation: 'None' };
  const activation = isRelu6(edit, act) ? 'Relu6' : ACTIVATIONS[act.op];
  if (!activation) return { output, activation: 'None' };
  removed.push(act);
  return { output: act.outputs[0], activation };
}

/** Add(output, other) reading `output` alone, other computed (a constant is a bias, folded before). */
function residualOf(edit: GraphEdit, output: string): { add: IrNode; value: string } | undefined {
  const add = edit.soleConsumer(output, 'Add');
  if (!add || add.inputs.length !== 2) return undefined;
  const value = add.inputs[0] === output ? add.inputs[1] : add.inputs[0];
  if (!value || value === output || edit.constant(value)) return undefined;
  return { add, value };
}

/** Float Conv (+ BatchNormalization, + residual Add, + activation) with constant weights. */
function fuseFloatConv(edit: GraphEdit, conv: IrNode, layers: LinearLayer[]): void {
  const w = floatWeights(edit.constant(conv.inputs[1]));
  const biasConst = conv.inputs[2] ? edit.constant(conv.inputs[2]) : undefined;
  if (!w || (conv.inputs[2] && (!biasConst || biasConst.dtype !== 'float32' || biasConst.data.length !== w.outChannels))) return;
  if (edit.constant(conv.inputs[0])) return;
  const groups = intAttr(conv, 'group', 1);
  if (groups < 1 || w.outChannels % groups !== 0) return;
  const bias = biasConst ? Float32Array.from(biasConst.data as Float32Array) : new Float32Array(w.outChannels);
  const removed = [conv];
  let output = conv.outputs[0];
  const bn = edit.soleConsumer(output, 'BatchNormalization');
  if (bn && bn.outputs.slice(1).every((o) => !o) && foldBatchNorm(edit, bn, w, bias)) {
    removed.push(bn);
    output = bn.outputs[0];
  }
  const perOut = w.values.length / w.outChannels;
  const values = w.values === edit.constant(conv.inputs[1])?.data ? Float32Array.from(w.values as Float32Array) : w.values;
  w.values = values;
  output = foldChannelAffines(edit, output, removed, {
    bias, outChannels: w.outChannels, rank: 2 + w.kernel.length,
    scaleChannel: (oc, s) => { for (let i = oc * perOut; i < (oc + 1) * perOut; i++) values[i] *= s; },
  });
  const depthwise = groups > 1 && w.groupChannels === 1 && w.outChannels === groups;
  // A residual Add (ResNet's identity or projection branch) goes into the epilogue, before the activation.
  const residual = depthwise ? undefined : residualOf(edit, output);
  if (residual) {
    removed.push(residual.add);
    output = residual.add.outputs[0];
  }
  const fused = fuseActivation(edit, output, removed);
  const post = fused.activation !== 'None' && !residual ? postAffine(edit, fused.output, removed) : undefined;
  if (post) fused.output = post.output;
  const postAttrs = post ? { postScale: post.scale, postShift: post.shift } : {};
  const biasName = edit.addConstant(`${conv.name}/bias`, { dtype: 'float32', dims: [w.outChannels], data: bias });
  if (depthwise) {
    // [C, 1, ...kernel] -> [...kernel, C]: the taps of all channels side by side.
    const taps = w.kernel.reduce((p, d) => p * d, 1);
    const nhwc = new Float32Array(taps * groups);
    for (let c = 0; c < groups; c++) for (let t = 0; t < taps; t++) nhwc[t * groups + c] = w.values[c * taps + t];
    const weightsName = edit.addConstant(`${conv.name}/depthwise`, { dtype: 'float32', dims: [taps * groups], data: nhwc });
    edit.replace(removed, [{
      op: 'DepthwiseConv', domain: ENGINE_DOMAIN, name: conv.name, inputs: [conv.inputs[0], weightsName, biasName], outputs: [fused.output],
      attrs: { ...geometryAttrs(conv, w, groups), activation: fused.activation, ...postAttrs },
    }]);
    return;
  }
  const first = layers.length;
  const overPixels = !readsPooledMap(edit, conv.inputs[0]);
  for (let g = 0; g < groups; g++) layers.push(groupLayer(conv.name, w, groups, g, overPixels));
  edit.replace(removed, [{
    op: 'Conv', domain: ENGINE_DOMAIN, name: conv.name, inputs: [conv.inputs[0], biasName, ...(residual ? [residual.value] : [])],
    outputs: [fused.output], attrs: { ...geometryAttrs(conv, w, groups), layer: first, activation: fused.activation, ...postAttrs },
  }]);
}

function scalarOf(t: ConstTensor | undefined): number | undefined {
  return t && t.data.length === 1 ? Number(t.data[0]) : undefined;
}

/**
 * Conv(DequantizeLinear(xq), DequantizeLinear(Wq)[, bias]) of a static QDQ model: the product runs on
 * the int8 values themselves (x's scale and zero point per tensor, W's scales per output channel, W
 * symmetric), which is exactly the float convolution of the dequantized values up to float rounding.
 */
function fuseQdqConv(edit: GraphEdit, conv: IrNode, layers: LinearLayer[]): void {
  const xDq = edit.producedBy(conv.inputs[0], 'DequantizeLinear');
  const wDq = edit.producedBy(conv.inputs[1], 'DequantizeLinear');
  if (!xDq || !wDq) return;
  const xScale = scalarOf(edit.constant(xDq.inputs[1]));
  const xZeroTensor = xDq.inputs[2] ? edit.constant(xDq.inputs[2]) : undefined;
  const xZero = xDq.inputs[2] ? scalarOf(xZeroTensor) : 0;
  const wq = edit.constant(wDq.inputs[0]);
  const wScale = edit.constant(wDq.inputs[1]);
  const wZero = wDq.inputs[2] ? edit.constant(wDq.inputs[2]) : undefined;
  if (xScale === undefined || xZero === undefined || !wq || wq.dtype !== 'int8' || !wScale || wScale.dtype !== 'float32') return;
  if (wDq.inputs[2] && (!wZero || valuesOf(wZero).some((v) => v !== 0))) return;
  if (wq.dims.length !== 3 && wq.dims.length !== 4) return;
  const outChannels = wq.dims[0];
  if (wScale.data.length !== 1 && (wScale.data.length !== outChannels || intAttr(wDq, 'axis', 1) !== 0)) return;
  const groups = intAttr(conv, 'group', 1);
  if (groups < 1 || outChannels % groups !== 0) return;
  // Depthwise: one channel per group would make a 1-channel int8 layer per channel. Left alone, the weights'
  // DequantizeLinear folds and the float DepthwiseConv runs on the dequantized input: faster, and exact.
  if (groups > 1 && wq.dims[1] === 1 && outChannels === groups) return;
  let bias: Float32Array | undefined;
  if (conv.inputs[2]) {
    const b = edit.constant(conv.inputs[2]);
    const bDq = edit.producedBy(conv.inputs[2], 'DequantizeLinear');
    if (b && b.dtype === 'float32' && b.data.length === outChannels) {
      bias = Float32Array.from(b.data as Float32Array);
    } else if (bDq) {
      const q = edit.constant(bDq.inputs[0]), s = edit.constant(bDq.inputs[1]);
      if (!q || q.dtype !== 'int32' || q.data.length !== outChannels || !s) return;
      const sv = valuesOf(s);
      bias = Float32Array.from(valuesOf(q), (v, i) => Math.fround(v * sv[sv.length === 1 ? 0 : i]));
    } else {
      return;
    }
  }
  const scales = wScale.data.length === 1 ? new Float32Array(outChannels).fill(Number(wScale.data[0])) : Float32Array.from(wScale.data as Float32Array);
  const w: ConvWeights = { values: wq.data as Int8Array, outChannels, groupChannels: wq.dims[1], kernel: wq.dims.slice(2), scales };
  const removed = [conv];
  const fused = fuseActivation(edit, conv.outputs[0], removed);
  const first = layers.length;
  const overPixels = !readsPooledMap(edit, conv.inputs[0]);
  for (let g = 0; g < groups; g++) layers.push(groupLayer(conv.name, w, groups, g, overPixels));
  const inputs = [xDq.inputs[0]];
  if (bias) inputs.push(edit.addConstant(`${conv.name}/bias`, { dtype: 'float32', dims: [outChannels], data: bias }));
  edit.replace(removed, [{
    op: 'QConv', domain: ENGINE_DOMAIN, name: conv.name, inputs, outputs: [fused.output],
    attrs: { ...geometryAttrs(conv, w, groups), layer: first, activation: fused.activation, scale: xScale, zeroPoint: xZero },
  }]);
}

export function fuseQdqConvs(edit: GraphEdit, layers: LinearLayer[]): void {
  for (const node of [...edit.graph.nodes]) {
    if (node.op === 'Conv' && node.domain === '' && edit.graph.nodes.includes(node)) fuseQdqConv(edit, node, layers);
  }
}

export function fuseConvs(edit: GraphEdit, layers: LinearLayer[]): void {
  for (const node of [...edit.graph.nodes]) {
    if (node.op === 'Conv' && node.domain === '' && edit.graph.nodes.includes(node)) fuseFloatConv(edit, node, layers);
  }
}
