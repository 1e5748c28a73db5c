// Error types of the model IO layer. Each carries a one-line message meant to be shown to a user as is.

/** Base class of every error thrown by lib/onnx. */
export class OnnxError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The file or bytes could not be read as an ONNX model. */
export class ModelLoadError extends OnnxError {}

/** External tensor data is missing, out of range, changed on disk, or points outside the model's folder. */
export class ExternalDataError extends ModelLoadError {}

/** The model parsed but breaks a structural rule (cycle, dangling input, bad dims, size mismatch...). */
export class ModelValidationError extends OnnxError {
  /** Every problem found; the message names the first. */
  readonly problems: string[];
  constructor(problems: string[]) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
    super(`invalid model: ${problems[0]}${more}`);
    this.problems = problems;
  }
}

/** The model could not be written; no partial output is left behind. */
export class ModelSaveError extends OnnxError {}

/** One line describing any thrown value, for wrapping low-level errors. */
export function describeError(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0];
}
