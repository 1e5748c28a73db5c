// MatMul(Q, Kᵀ) -> [Div|Mul by a constant] -> [Add mask] -> Softmax -> MatMul(·, V), on 4-D
// [batch, heads, positions, channels] values, becomes one Attention node; a Transpose to
// [batch, positions, heads, channels] after it is absorbed too (the kernel writes that layout).
import { ENGINE_DOMAIN, intAttr, intsAttr, type IrNode } from './ir';
import type { RunNode, Specialized } from './specialize';

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function fuseAttention(spec: Specialized, graphOutputs: ReadonlySet<string>): void {
  const producers = new Map<string, RunNode>();
  const consumers = new Map<string, RunNode[]>();
  for (const r of spec.nodes) {
    for (const o of r.node.outputs) if (o) producers.set(o, r);
    for (const i of r.node.inputs) if (i) consumers.set(i, [...(consumers.get(i) ?? []), r]);
  }
  const sole = (name: string, op: string): RunNode | undefined => {
    const list = consumers.get(name) ?? [];
    return list.length === 1 && !graphOutputs.has(name) && list[0].node.op === op && list[0].node.domain === '' ? list[0] : undefined;
  };
  const removed = new Set<RunNode>();
  const replacements = new Map<RunNode, RunNode>();

  for (const qk of spec.nodes) {
    if (qk.node.op !== 'MatMul' || qk.node.domain !== '' || removed.has(qk)) continue;
    const [q, kT] = qk.shaped;
    if (!q || !kT || q.value || kT.value || q.dims.length !== 4 || kT.dims.length !== 4) continue;
    const [b, h, sq, d] = q.dims;
    const skv = kT.dims[3];
    if (kT.dims[0] !== b || kT.dims[1] !== h || kT.dims[2] !== d) continue;
    let scale = 1;
    let cursor = qk.node.outputs[0];
    const chain: RunNode[] = [qk];
    const scaler = sole(cursor, 'Div') ?? sole(cursor, 'Mul');
    if (scaler) {
      const c = scaler.shaped[1]?.value;
      if (scaler.node.inputs[0] === cursor && c && c.data.length === 1) {
        scale = scaler.node.op === 'Div' ? 1 / Number(c.data[0]) : Number(c.data[0]);
        chain.push(scaler);
        cursor = scaler.node.outputs[0];
      }
    }
    let mask: string | undefined;
    const add = sole(cursor, 'Add');
    if (add) {
      const at = add.node.inputs[0] === cursor ? 1 : 0;
      const m = add.shaped[at];
      if (m && m.dtype === 'float32' && m.dims.length <= 4 && sameDims(add.outputs[0].dims, [b, h, sq, skv])) {
        mask = add.node.inputs[at];
        chain.push(add);
        cursor = add.node.outputs[0];
      }
    }
    const softmax = sole(cursor, 'Softmax');
    if (!softmax) continue;
    const axis = intAttr(softmax.node, 'axis', -1);
    if (axis !== -1 && axis !== 3) continue;
    const pv = sole(softmax.node.outputs[0], 'MatMul');
    if (!pv || pv.node.inputs[0] !== softmax.node.outputs[0]) continue;
    const v = pv.shaped[1];
    if (!v || v.value || !sameDims(v.dims, [b, h, skv, d])) continue;
    chain.push(softmax, pv);
    let output = pv.node.outputs[0];
    let layout = 'bhsd';
    const transpose = sole(output, 'Transpose');
    const perm = transpose ? intsAttr(transpose.node, 'perm') : undefined;
    if (transpose && perm && perm.join() === '0,2,1,3') {
      chain.push(transpose);
      output = transpose.node.outputs[0];
      layout = 'bshd';
    }
    const node: IrNode = {
      op: 'Attention', domain: ENGINE_DOMAIN, name: `${qk.node.name}/fused_attention`,
      inputs: [qk.node.inputs[0], qk.node.inputs[1], pv.node.inputs[1], ...(mask ? [mask] : [])],
      outputs: [output], attrs: { scale, layout },
    };
    const maskShaped = mask ? spec.values.get(mask) : undefined;
    const fused: RunNode = {
      node, shaped: [q, kT, v, ...(maskShaped ? [maskShaped] : [])],
      outputs: [{ dtype: 'float32', dims: layout === 'bshd' ? [b, sq, h, d] : [b, h, sq, d] }],
    };
    chain.forEach((r) => removed.add(r));
    replacements.set(pv, fused);
  }
  if (removed.size === 0) return;
  spec.nodes = spec.nodes.flatMap((r) => (replacements.has(r) ? [replacements.get(r)!] : removed.has(r) ? [] : [r]));
}
