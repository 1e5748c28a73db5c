// What a prune run reports: per layer what was removed, what was left alone and why, totals, and
// (from prune()) compare figures against the original.
import type { CompareReport } from '../compare/compare';
import type { PrunePattern } from './options';
import type { LayerOp } from './layers';

/** A layer pruned by magnitude (unstructured or N:M). */
export interface MagnitudeLayerReport {
  layer: string;
  op: LayerOp;
  weight: string;
  shape: number[];
  params: number;
  /** Fraction asked for. */
  targetSparsity: number;
  /** Fraction of the weight's elements that are zero afterwards. */
  sparsity: number;
}

/** A set of coupled layers whose output channels were removed together. */
export interface ChannelGroupReport {
  /** Layers whose outputs lost channels (more than one when a residual add or gate couples them). */
  layers: string[];
  channels: { before: number; after: number };
  /** Elements of every tensor that lost channels (weights, biases, norm parameters, next layers' inputs). */
  parameters: { before: number; after: number };
  /** Layers that read the channels and lost the matching inputs. */
  consumers: string[];
  /** Ops the channels were followed through between those layers. */
  followed: string[];
  /** A normalization over the channels now averages over fewer of them, which changes its statistics. */
  statisticsChanged: boolean;
}

/** Why a layer was left alone: too few weights, excluded, kept dense, channels it cannot follow, or a weight it cannot prune. */
export type SkipKind = 'too-small' | 'excluded' | 'dense' | 'unfollowable' | 'unsupported';

export interface SkippedLayer {
  /** The layer, or the coupled layers of a channel group. */
  layers: string[];
  kind: SkipKind;
  reason: string;
}

export interface ParameterTotals {
  before: number;
  after: number;
  nonzeroBefore: number;
  nonzeroAfter: number;
}

export interface PruneReport {
  pattern: PrunePattern;
  scope: 'layer' | 'global';
  sparsity: number;
  /** Unstructured and N:M patterns: one entry per pruned weight. */
  layers: MagnitudeLayerReport[];
  /** Channel pattern: one entry per pruned group of layers. */
  channels: ChannelGroupReport[];
  skipped: SkippedLayer[];
  parameters: ParameterTotals;
  /** Original (A) against pruned (B) in onnxruntime; null when not asked for. */
  compare: CompareReport | null;
  notes: string[];
  warnings: string[];
}
