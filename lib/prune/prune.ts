// prune(model, options): the pruning pass. Reads a Model, returns a pruned copy and a report; the input is
// never modified.
import { compareModels } from '../compare/compare';
import { accuracyWarnings } from '../compare/accuracy-warnings';
import type { Model } from '../onnx/model';
import { serializeModel } from '../onnx/save';
import { validateModel } from '../onnx/validate';
import { pruneChannels } from './channel-prune';
import { ConstantIndex } from './constants';
import { pruneMagnitude } from './magnitude';
import { LayerSelector, resolveOptions, type PruneOptions, type PruneRunOptions, type ResolvedOptions } from './options';
import { countParameters } from './parameters';
import type { PruneReport } from './report';

export interface PruneResult {
  model: Model;
  report: PruneReport;
}

const ACCURACY_NOTE = 'pruning without fine-tuning costs accuracy: check the compare figures on real inputs, and recover '
  + 'it by distillation with the original as the teacher: onnxforge distill --teacher ORIGINAL --student PRUNED --data DIR '
  + '(pruned zeros stay zero while it trains)';

function notesFor(o: ResolvedOptions, report: Pick<PruneReport, 'channels'>): string[] {
  const notes = [ACCURACY_NOTE];
  if (o.pattern === 'channel') {
    if (report.channels.some((g) => g.statisticsChanged)) {
      notes.push('some normalizations (LayerNormalization, or its decomposed ReduceMean form) now average over fewer channels, '
        + 'so their statistics differ from the original model\'s');
    }
  } else {
    notes.push('zeros are stored densely: file size and onnxruntime speed do not change; kernels.packSparse packs the '
      + 'pruned weights for onnxforge\'s sparse kernels (kernels.matmulSparse, kernels.linearSparseInt8)');
  }
  return notes;
}

/** Prune a copy of `source` without running it (no compare figures). */
export function pruneModel(source: Model, options: PruneOptions): PruneResult {
  const o = resolveOptions(options);
  const model = source.clone();
  const constants = new ConstantIndex(model);
  const selector = new LayerSelector(o);
  const before = countParameters(source);
  const { layers, channels, skipped } = o.pattern === 'channel'
    ? { layers: [], ...pruneChannels(model, constants, o, selector) }
    : { channels: [], ...pruneMagnitude(model, constants, o, selector) };
  model.invalidate();
  validateModel(model);
  const after = countParameters(model);
  return {
    model,
    report: {
      pattern: o.pattern,
      scope: o.scope,
      sparsity: o.sparsity,
      layers,
      channels,
      skipped,
      parameters: { before: before.count, after: after.count, nonzeroBefore: before.nonzero, nonzeroAfter: after.nonzero },
      compare: null,
      notes: notesFor(o, { channels }),
      warnings: [
        ...selector.unusedPatterns(),
        ...(layers.length + channels.length === 0 ? ['no layer was pruned; see the skipped list'] : []),
      ],
    },
  };
}

/** Prune a copy of `source` and (unless `compare: false`) measure it against the original in onnxruntime. */
export async function prune(source: Model, options: PruneRunOptions): Promise<PruneResult> {
  const result = pruneModel(source, options);
  if (options.compare !== false) {
    result.report.compare = await compareModels(serializeModel(source), serializeModel(result.model), options.compare ?? {});
    result.report.warnings.push(...accuracyWarnings(result.report.compare,
      'prune less (a lower sparsity, or a scope that skips this output\'s layers), or recover it with onnxforge distill'));
  }
  return result;
}
