// Channel spaces: a set of tensor dimensions that must keep the same channels. A space starts at a layer's
// outputs and grows as the channels flow through ops that keep them apart; a binary op joining two spaces
// (a residual add, a squeeze-excite gate) couples them, so they are one space (union-find).
import type { NodeProto } from '../onnx/gen/onnx_pb';
import type { NodeRef } from '../onnx/model';
import type { WeightedLayer } from './layers';

/** A constant input whose `axis` holds the space's channels. */
export interface SliceEdit {
  ref: NodeRef;
  input: number;
  axis: number;
}

export interface ChannelSource {
  layer: WeightedLayer;
  /** Axis of the weight that holds the output channels. */
  axis: number;
}

export interface ChannelSpace {
  channels: number;
  sources: ChannelSource[];
  slices: SliceEdit[];
  /** Depthwise Convs whose `group` attribute equals the channel count. */
  depthwise: NodeProto[];
  /** Values carrying the channels, with the (negative) axis, so stated shapes can be updated. */
  values: { name: string; axis: number }[];
  /** Layers that read the channels as their reduction axis (their input weights lose rows). */
  consumers: string[];
  /** Op types the channels were followed through. */
  followed: Set<string>;
  /** A normalization (LayerNorm, a decomposed mean over the channels) now sees fewer channels. */
  statisticsChanged: boolean;
  /** Why the channels cannot be removed; empty when they can. */
  failures: string[];
}

export class SpaceSet {
  private readonly parent: number[] = [];
  private readonly spaces: ChannelSpace[] = [];

  create(channels: number): number {
    const id = this.spaces.length;
    this.parent.push(id);
    this.spaces.push({
      channels, sources: [], slices: [], depthwise: [], values: [], consumers: [], followed: new Set(), statisticsChanged: false, failures: [],
    });
    return id;
  }

  find(id: number): number {
    while (this.parent[id] !== id) {
      this.parent[id] = this.parent[this.parent[id]];
      id = this.parent[id];
    }
    return id;
  }

  get(id: number): ChannelSpace {
    return this.spaces[this.find(id)];
  }

  /** Couple two spaces; returns the root. */
  merge(a: number, b: number): number {
    const [ra, rb] = [this.find(a), this.find(b)];
    if (ra === rb) return ra;
    const [sa, sb] = [this.spaces[ra], this.spaces[rb]];
    this.parent[rb] = ra;
    if (sa.channels !== sb.channels) sa.failures.push(`coupled layers have ${sa.channels} and ${sb.channels} channels`);
    sa.sources.push(...sb.sources);
    sa.slices.push(...sb.slices);
    sa.depthwise.push(...sb.depthwise);
    sa.values.push(...sb.values);
    sa.consumers.push(...sb.consumers);
    sb.followed.forEach((op) => sa.followed.add(op));
    sa.statisticsChanged ||= sb.statisticsChanged;
    sa.failures.push(...sb.failures);
    return ra;
  }

  roots(): ChannelSpace[] {
    return this.spaces.filter((_, id) => this.find(id) === id);
  }
}
