// Runtime failures carry the HTTP status the server answers with, so the runtime
// and the server agree on what is the caller's fault and what is worth a retry.

export class RuntimeError extends Error {
  /** HTTP status for this failure. */
  readonly status: number;
  /** Seconds after which a retry may succeed; undefined when retrying will not help. */
  readonly retryAfterSeconds: number | undefined;

  constructor(message: string, status: number, retryAfterSeconds?: number) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The request is malformed or does not fit the model (wrong input, dtype, shape). */
export class InvalidRequestError extends RuntimeError {
  constructor(message: string) {
    super(message, 400);
  }
}

/** No such model or version in the repository. */
export class ModelNotFoundError extends RuntimeError {
  constructor(message: string) {
    super(message, 404);
  }
}

/** The model exists but is not available: unloaded by an operator, or its config or file is broken. */
export class ModelUnavailableError extends RuntimeError {
  constructor(message: string) {
    super(message, 400);
  }
}

/** The model failed to load (bad file, bad config, engine error). */
export class ModelLoadFailedError extends RuntimeError {
  constructor(message: string) {
    super(message, 400);
  }
}

/** Queue or in-flight limit reached: retryable. */
export class OverloadedError extends RuntimeError {
  constructor(message: string, retryAfterSeconds = 1) {
    super(message, 503, retryAfterSeconds);
  }
}

/** The memory budget cannot hold the model right now because busy or pinned models fill it. */
export class CapacityError extends RuntimeError {
  constructor(message: string, retryable: boolean) {
    super(message, 503, retryable ? 1 : undefined);
  }
}

/** The request waited in the queue past the model's queue timeout (config queue.timeout_ms). */
export class RequestTimeoutError extends RuntimeError {
  constructor(message: string) {
    super(message, 504);
  }
}

/** The request's own deadline (its timeout, or a deadline given by the caller) passed before it was answered. */
export class DeadlineExceededError extends RequestTimeoutError {}

/** The caller cancelled the request (client disconnected, signal aborted). */
export class RequestCancelledError extends RuntimeError {
  constructor(message = 'request cancelled') {
    super(message, 499);
  }
}

/** The request would need more activation memory than the model's budget allows (estimated before it runs). */
export class RequestMemoryError extends RuntimeError {
  constructor(message: string, readonly estimateBytes: number, readonly budgetBytes: number) {
    super(message, 413);
  }
}

/** The instance running the request died (its process was killed or crashed) and is being restarted: retryable. */
export class InstanceRestartingError extends RuntimeError {
  constructor(message: string) {
    super(message, 503, 1);
  }
}

/**
 * The model's instance processes kept dying and spent their restart budget (a crash loop): no retry helps
 * until the model is loaded again (repository API), so there is no Retry-After.
 */
export class InstanceFailedError extends RuntimeError {
  constructor(message: string) {
    super(message, 503);
  }
}

/** The runtime is shutting down and takes no new work. */
export class ShuttingDownError extends RuntimeError {
  constructor() {
    super('the server is shutting down', 503);
  }
}

/** A stable code per failure for clients to branch on (the message is for people and may change). */
export function errorCode(err: Error): string {
  if (!(err instanceof RuntimeError)) return 'internal';
  const codes: [new (...args: never[]) => RuntimeError, string][] = [
    [InvalidRequestError, 'invalid_request'], [ModelNotFoundError, 'model_not_found'], [ModelUnavailableError, 'model_unavailable'],
    [ModelLoadFailedError, 'model_load_failed'], [OverloadedError, 'overloaded'], [CapacityError, 'capacity'],
    [DeadlineExceededError, 'deadline_exceeded'], [RequestTimeoutError, 'timeout'], [RequestCancelledError, 'cancelled'], [ShuttingDownError, 'shutting_down'],
    [ExecutionError, 'execution_failed'], [RequestMemoryError, 'request_memory_exceeded'], [InstanceRestartingError, 'instance_restarting'],
    [InstanceFailedError, 'instance_failed'],
  ];
  return codes.find(([type]) => err instanceof type)?.[1] ?? (err.status === 415 ? 'unsupported_media_type' : err.status === 413 ? 'payload_too_large' : 'runtime_error');
}

/** The engine failed while running a model. */
export class ExecutionError extends RuntimeError {
  constructor(message: string) {
    super(message, 500);
  }
}
