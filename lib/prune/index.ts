// Public API of the pruning pass.
export { prune, pruneModel, type PruneResult } from './prune';
export { pruneFile } from './prune-file';
export { PRUNE_PATTERNS, type PruneOptions, type PruneRunOptions, type PrunePattern } from './options';
export type { PruneReport, MagnitudeLayerReport, ChannelGroupReport, SkippedLayer, SkipKind, ParameterTotals } from './report';
