// Structured channel pruning: rank each channel group's channels by the norm of the weights that produce
// them, keep the strongest, and cut every tensor of the group down to those channels.
import { makeAttribute } from '../onnx/attributes';
import type { NodeProto } from '../onnx/gen/onnx_pb';
import type { Model } from '../onnx/model';
import { elementCount } from '../onnx/tensor';
import { analyzeChannels } from './channel-analysis';
import type { ChannelSpace } from './channel-spaces';
import { writeConstantInput, type ConstantIndex } from './constants';
import type { LayerSelector, ResolvedOptions } from './options';
import { layerNames } from './layers';
import type { ChannelGroupReport, SkipKind, SkippedLayer } from './report';
import { channelNorms, sliceAxis } from './tensor-ops';

interface Candidate {
  space: ChannelSpace;
  names: string[];
  sparsity: number;
  override: boolean;
  /** Per channel: the mean over the group's layers of the channel's weight norm over that layer's mean norm. */
  scores: Float64Array;
}

/** Channels kept when `sparsity` of `channels` go, rounded up to a multiple of `roundTo`, at least one. */
export function keptChannels(channels: number, sparsity: number, roundTo: number): number {
  const pruned = Math.floor(channels * sparsity + 1e-9);
  const kept = Math.ceil((channels - pruned) / roundTo) * roundTo;
  return Math.max(1, Math.min(channels, kept));
}

function importance(space: ChannelSpace, constants: ConstantIndex): Float64Array {
  const scores = new Float64Array(space.channels);
  for (const { layer, axis } of space.sources) {
    const norms = channelNorms(constants.floats(layer.weight), layer.weight.dims, axis);
    const mean = norms.reduce((a, b) => a + b, 0) / norms.length || 1;
    norms.forEach((v, c) => (scores[c] += v / mean / space.sources.length));
  }
  return scores;
}

/** How many channels each candidate keeps: per group, or by one ranking over all groups (scope global). */
function keptCounts(candidates: Candidate[], options: ResolvedOptions): number[] {
  const kept = candidates.map((c) => keptChannels(c.space.channels, c.sparsity, options.roundTo));
  if (options.scope !== 'global') return kept;
  const pooled = candidates.map((c, i) => ({ c, i })).filter(({ c }) => !c.override);
  const total = pooled.reduce((sum, { c }) => sum + c.space.channels, 0);
  let toPrune = Math.floor(total * options.sparsity + 1e-9);
  const entries = pooled.flatMap(({ c, i }) => Array.from(c.scores, (score) => ({ i, score }))).sort((a, b) => a.score - b.score);
  const remaining = new Map(pooled.map(({ c, i }) => [i, c.space.channels]));
  for (const { i } of entries) {
    if (toPrune === 0) break;
    if ((remaining.get(i) as number) <= 1) continue;
    remaining.set(i, (remaining.get(i) as number) - 1);
    toPrune--;
  }
  for (const [i, count] of remaining) kept[i] = Math.min(candidates[i].space.channels, Math.ceil(count / options.roundTo) * options.roundTo);
  return kept;
}

function strongest(scores: Float64Array, count: number): number[] {
  return Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || a - b).slice(0, count).sort((a, b) => a - b);
}

function updateStatedShapes(model: Model, space: ChannelSpace, kept: number): void {
  const axes = new Map(space.values.map((v) => [v.name, v.axis]));
  for (const { graph } of model.graphs()) {
    for (const vi of graph.valueInfo) {
      const axis = axes.get(vi.name);
      const type = vi.type?.value;
      if (axis === undefined || type?.case !== 'tensorType' || !type.value.shape) continue;
      const dim = type.value.shape.dim[type.value.shape.dim.length + axis];
      if (dim?.value.case === 'dimValue' && Number(dim.value.value) === space.channels) dim.value = { case: 'dimValue', value: BigInt(kept) };
    }
  }
}

function applyGroup(model: Model, constants: ConstantIndex, space: ChannelSpace, keep: number[]): { before: number; after: number } {
  // A layer whose output and input are in the same group (coupled by a residual add) loses rows and columns.
  const done = new Map<NodeProto, Set<string>>();
  let before = 0;
  let after = 0;
  for (const edit of space.slices) {
    const seen = done.get(edit.ref.node) ?? new Set<string>();
    const key = `${edit.input}:${edit.axis}`;
    if (seen.has(key)) continue;
    seen.add(key);
    done.set(edit.ref.node, seen);
    const ref = constants.lookup(edit.ref.node.input[edit.input], edit.ref.graph);
    if (!ref) throw new Error(`input ${edit.input} of node "${edit.ref.node.name}" is no longer a constant`);
    const sliced = sliceAxis(constants.values(ref), ref.dims, edit.axis, keep);
    before += elementCount(ref.dims);
    after += elementCount(sliced.dims);
    writeConstantInput(model, constants, edit.ref, edit.input, sliced.data, sliced.dims);
  }
  for (const node of space.depthwise) {
    node.attribute = [...node.attribute.filter((a) => a.name !== 'group'), makeAttribute('group', keep.length)];
  }
  updateStatedShapes(model, space, keep.length);
  return { before, after };
}

/** Remove output channels in place on `model`; returns what was pruned and what was left alone. */
export function pruneChannels(model: Model, constants: ConstantIndex, options: ResolvedOptions, selector: LayerSelector): { channels: ChannelGroupReport[]; skipped: SkippedLayer[] } {
  const skipped: SkippedLayer[] = [];
  const candidates: Candidate[] = [];
  const analysis = analyzeChannels(model, constants);
  for (const { layer, reason } of analysis.unsupported) {
    const excluded = selector.excluded(layerNames(layer));
    selector.sparsityOf(layerNames(layer));
    skipped.push({ layers: [layer.name], kind: excluded ? 'excluded' : 'unsupported', reason: excluded ? 'excluded' : reason });
  }
  for (const space of analysis.spaces) {
    const names = space.sources.map((s) => s.layer.name);
    const skip = (kind: SkipKind, reason: string): void => void skipped.push({ layers: names, kind, reason });
    // Every source is matched (even in groups left alone) so that unused patterns are real typos.
    const excluded = space.sources.map((s) => selector.excluded(layerNames(s.layer))).some(Boolean);
    const perLayer = space.sources.map((s) => selector.sparsityOf(layerNames(s.layer)));
    if (excluded) {
      skip('excluded', space.sources.length > 1 ? 'excluded (or coupled with an excluded layer)' : 'excluded');
      continue;
    }
    if (space.failures.length) {
      const more = space.failures.length > 1 ? ` (and ${space.failures.length - 1} more)` : '';
      skip('unfollowable', `channels cannot be followed: ${space.failures[0]}${more}`);
      continue;
    }
    const sparsity = Math.min(...perLayer.map((p) => p.sparsity));
    const params = space.sources.reduce((sum, s) => sum + elementCount(s.layer.weight.dims), 0);
    if (sparsity === 0) skip('dense', 'sparsity 0');
    else if (params < options.minParams) skip('too-small', `too small (${params} weights < ${options.minParams})`);
    else if (keptChannels(space.channels, sparsity, options.roundTo) === space.channels && options.scope !== 'global') {
      skip('dense', `${space.channels} channels: none to remove at sparsity ${sparsity}`);
    } else {
      candidates.push({ space, names, sparsity, override: perLayer.some((p) => p.override), scores: importance(space, constants) });
    }
  }
  const counts = keptCounts(candidates, options);
  const groups: ChannelGroupReport[] = [];
  candidates.forEach((c, i) => {
    if (counts[i] === c.space.channels) {
      skipped.push({ layers: c.names, kind: 'dense', reason: 'the global ranking keeps all its channels' });
      return;
    }
    const keep = strongest(c.scores, counts[i]);
    const parameters = applyGroup(model, constants, c.space, keep);
    groups.push({
      layers: c.names,
      channels: { before: c.space.channels, after: keep.length },
      parameters,
      consumers: [...new Set(c.space.consumers)],
      followed: [...c.space.followed],
      statisticsChanged: c.space.statisticsChanged,
    });
  });
  return { channels: groups, skipped };
}
