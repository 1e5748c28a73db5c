// One job on a worker: its tensors through ModelRuntime (so batching, instances and the model
// cache apply), as one request ('infer') or as a batch chunk whose samples succeed or fail alone.
import type { ModelRuntime } from '../runtime/runtime';
import { InvalidRequestError, RuntimeError } from '../runtime/errors';
import type { CancelSignal } from '../runtime/scheduler';
import type { JobData, JobKind } from './jobs';
import type { WireItem } from './wire';

export interface JobOutcome {
  version: number;
  items: WireItem[];
}

export async function executeJob(
  runtime: ModelRuntime, model: string, kind: JobKind, data: JobData, version: number, items: WireItem[], signal: CancelSignal,
): Promise<JobOutcome> {
  const options = { version, outputs: data.outputs, priority: data.priority, timeoutMs: data.timeoutMs, signal };
  if (kind === 'infer') {
    const [item] = items;
    if (items.length !== 1 || !item || 'error' in item) throw new InvalidRequestError('malformed job: an inference job carries exactly one set of tensors');
    const result = await runtime.infer(model, item.tensors, options);
    return { version, items: [{ tensors: result.outputs }] };
  }
  const results = await Promise.all(items.map(async (item): Promise<WireItem> => {
    // A sample the batch could not read travels as its error and comes back as it is.
    if ('error' in item) return item;
    try {
      return { tensors: (await runtime.infer(model, item.tensors, options)).outputs };
    } catch (err) {
      return { error: { status: err instanceof RuntimeError ? err.status : 500, message: (err as Error).message } };
    }
  }));
  return { version, items: results };
}
