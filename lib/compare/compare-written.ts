// Commands that write a model and then compare it with the original (convert, prune, optimize) all do
// the same when the comparison fails: the written model is complete and valid, so it is kept, and the
// error says where it is and that it was kept. (quantize verifies in memory before writing: nothing is
// written when its check fails.)
import { describeError } from '../onnx/errors';
import { compareModels, type CompareOptions, type CompareReport, type ModelSource } from './compare';

/** A comparison that failed after the output was written; the output stays. */
export class CompareAfterWriteError extends Error {
  constructor(readonly output: string, cause: unknown) {
    super(`${output} was written and is kept, but comparing it with the original failed: ${describeError(cause)}`, { cause });
    this.name = 'CompareAfterWriteError';
  }
}

/** compareModels(input, written), with a failure named as a CompareAfterWriteError. */
export async function compareWritten(input: ModelSource, written: ModelSource, output: string, options: CompareOptions): Promise<CompareReport> {
  try {
    return await compareModels(input, written, options);
  } catch (err) {
    throw new CompareAfterWriteError(output, err);
  }
}
