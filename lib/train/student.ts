// Students made from the teacher, by spec:
//   prune:channel=0.5[,min-params=N][,round-to=N]   narrower dense layers (the channel pruning pass)
//   prune:unstructured=0.9[,min-params=N]           the same shapes with 90% zeros, kept zero while training
//   prune:2:4 | prune:4:8                           N:M sparsity
//   layers:keep=0,2,4                               blocks of the repeated stack kept, with the teacher's weights
import type { Model } from '../onnx/model';
import { pruneModel } from '../prune/prune';
import type { PruneOptions } from '../prune/options';
import { dropLayers } from './layer-drop';

export interface StudentFromSpec {
  model: Model;
  spec: string;
  /** What was done, in a line. */
  description: string;
}

export class StudentSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StudentSpecError';
  }
}

const SPEC_FORMS = 'prune:channel=S, prune:unstructured=S, prune:2:4, prune:4:8 or layers:keep=I,J,...';

function parseCount(value: string, what: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < 0) throw new StudentSpecError(`${what} must be a non-negative integer, not "${value}"`);
  return n;
}

function pruneOptions(body: string): PruneOptions {
  const [head, ...rest] = body.split(',');
  let options: PruneOptions;
  if (head === '2:4' || head === '4:8') options = { pattern: head };
  else {
    const m = /^(channel|unstructured)=(.+)$/.exec(head);
    const sparsity = m ? Number(m[2]) : NaN;
    if (!m || !(sparsity > 0 && sparsity < 1)) throw new StudentSpecError(`"prune:${body}": expected ${SPEC_FORMS}, with a sparsity in (0, 1)`);
    options = { pattern: m[1] as 'channel' | 'unstructured', sparsity };
  }
  for (const item of rest) {
    const [key, value = ''] = item.split('=');
    if (key === 'min-params') options.minParams = parseCount(value, 'min-params');
    else if (key === 'round-to') options.roundTo = parseCount(value, 'round-to');
    else throw new StudentSpecError(`"prune:${body}": unknown setting "${key}" (min-params, round-to)`);
  }
  return options;
}

export function studentFromSpec(teacher: Model, spec: string): StudentFromSpec {
  if (spec.startsWith('prune:')) {
    const options = pruneOptions(spec.slice('prune:'.length));
    const { model, report } = pruneModel(teacher, options);
    const p = report.parameters;
    const pruned = report.pattern === 'channel' ? `${report.channels.length} channel group(s)` : `${report.layers.length} weight(s)`;
    if (report.channels.length + report.layers.length === 0) throw new StudentSpecError(`${spec} pruned nothing (${report.skipped.map((s) => `${s.layers.join(' + ')}: ${s.reason}`).join('; ') || 'no prunable layer'})`);
    return { model, spec, description: `${report.pattern} pruning of ${pruned}: parameters ${p.before} -> ${p.after}, non-zero ${p.nonzeroBefore} -> ${p.nonzeroAfter}` };
  }
  const keep = /^layers:keep=([\d,\s]+)$/.exec(spec);
  if (keep) {
    const indices = keep[1].split(',').map((v) => parseCount(v.trim(), 'a kept block'));
    const result = dropLayers(teacher, indices);
    return { model: result.model, spec, description: `kept blocks ${result.kept.join(', ')} of ${result.layers} (dropped ${result.dropped.join(', ')})` };
  }
  throw new StudentSpecError(`unknown student spec "${spec}": expected ${SPEC_FORMS}`);
}
