// ConvTranspose with constant float weights becomes the engine's ConvTranspose: per group one
// linear layer of C/groups rows and taps x OC/groups columns (each input pixel's contribution to
// every tap), gathered into the output natively. A BatchNormalization after it is folded into the
// weights and bias, and an activation into the gather's epilogue.
import { ENGINE_DOMAIN, floatAttr, intAttr, type IrNode } from './ir';
import { fuseActivation, type ConvWeights } from './conv-fusion';
import type { GraphEdit } from './graph-edit';
import type { LinearLayer } from './linear-layers';

/** ConvTranspose weights are [C, OC / groups, ...kernel]. */
function transposedWeights(edit: GraphEdit, node: IrNode, groups: number): ConvWeights | undefined {
  const t = edit.constant(node.inputs[1]);
  if (!t || t.dtype !== 'float32' || (t.dims.length !== 3 && t.dims.length !== 4) || t.dims[0] % groups !== 0) return undefined;
  return { values: t.data as Float32Array, outChannels: t.dims[1] * groups, groupChannels: t.dims[1], kernel: t.dims.slice(2) };
}

/** BatchNormalization folded per output channel (channel g * OCg + j is W[:, j, ...] of group g). */
function foldBatchNorm(edit: GraphEdit, bn: IrNode, w: ConvWeights, groups: number, bias: Float32Array): boolean {
  const params = bn.inputs.slice(1, 5).map((n) => edit.constant(n));
  if (params.length !== 4 || params.some((p) => !p || p.dtype !== 'float32' || p.data.length !== w.outChannels)) return false;
  if (intAttr(bn, 'training_mode', 0) || bn.outputs.slice(1).some((o) => o)) return false;
  const [scale, shift, mean, variance] = params.map((p) => p!.data as Float32Array);
  const epsilon = floatAttr(bn, 'epsilon', 1e-5);
  const taps = w.kernel.reduce((p, d) => p * d, 1);
  const ocg = w.groupChannels, inChannels = w.values.length / (ocg * taps);
  const values = Float32Array.from(w.values as Float32Array);
  for (let oc = 0; oc < w.outChannels; oc++) {
    const s = scale[oc] / Math.sqrt(variance[oc] + epsilon);
    const g = Math.floor(oc / ocg), j = oc % ocg;
    for (let c = g * (inChannels / groups); c < (g + 1) * (inChannels / groups); c++) {
      for (let t = 0; t < taps; t++) values[(c * ocg + j) * taps + t] *= s;
    }
    bias[oc] = (bias[oc] - mean[oc]) * s + shift[oc];
  }
  w.values = values;
  return true;
}

/** Group g's layer: B[c][t * OCg + j] = W[g * Cg + c][j][t]. */
function groupLayer(name: string, w: ConvWeights, groups: number, g: number): LinearLayer {
  const taps = w.kernel.reduce((p, d) => p * d, 1);
  const ocg = w.groupChannels, cg = w.values.length / (ocg * taps) / groups;
  const n = taps * ocg;
  const out = new Float32Array(cg * n);
  for (let c = 0; c < cg; c++) {
    const base = (g * cg + c) * ocg * taps;
    for (let j = 0; j < ocg; j++) for (let t = 0; t < taps; t++) out[c * n + t * ocg + j] = w.values[base + j * taps + t];
  }
  return { name: groups > 1 ? `${name}/group${g}` : name, k: cg, n, weights: out, transposed: false };
}

function fuseConvTranspose(edit: GraphEdit, node: IrNode, layers: LinearLayer[]): void {
  const groups = intAttr(node, 'group', 1);
  if (groups < 1 || edit.constant(node.inputs[0])) return;
  const w = transposedWeights(edit, node, groups);
  const biasConst = node.inputs[2] ? edit.constant(node.inputs[2]) : undefined;
  if (!w || (node.inputs[2] && (!biasConst || biasConst.dtype !== 'float32' || biasConst.data.length !== w.outChannels))) return;
  const bias = biasConst ? Float32Array.from(biasConst.data as Float32Array) : new Float32Array(w.outChannels);
  const removed = [node];
  let output = node.outputs[0];
  const bn = edit.soleConsumer(output, 'BatchNormalization');
  if (bn && foldBatchNorm(edit, bn, w, groups, bias)) {
    removed.push(bn);
    output = bn.outputs[0];
  }
  const fused = fuseActivation(edit, output, removed);
  const first = layers.length;
  for (let g = 0; g < groups; g++) layers.push(groupLayer(node.name, w, groups, g));
  const biasName = edit.addConstant(`${node.name}/bias`, { dtype: 'float32', dims: [w.outChannels], data: bias });
  edit.replace(removed, [{
    op: 'ConvTranspose', domain: ENGINE_DOMAIN, name: node.name, inputs: [node.inputs[0], biasName], outputs: [fused.output],
    attrs: {
      kernel: w.kernel, groups, outChannels: w.outChannels, layer: first, activation: fused.activation,
      strides: node.attrs.strides, pads: node.attrs.pads, dilations: node.attrs.dilations, auto_pad: node.attrs.auto_pad,
      output_padding: node.attrs.output_padding, output_shape: node.attrs.output_shape,
    },
  }]);
}

export function fuseConvTransposes(edit: GraphEdit, layers: LinearLayer[]): void {
  for (const node of [...edit.graph.nodes]) {
    if (node.op === 'ConvTranspose' && node.domain === '' && edit.graph.nodes.includes(node)) fuseConvTranspose(edit, node, layers);
  }
}
