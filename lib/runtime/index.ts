// The deployment runtime: a model repository served in-process, without HTTP.
export { ModelRuntime, type RuntimeOptions, type InferOptions, type InferResult, type IndexEntry, type ModelMetadata, type ModelState } from './runtime';
export { parseModelConfig, ModelConfigError, type ModelConfig, type TensorSpec, type VersionPolicy } from './config';
export { checkRepositoryLayout, scanRepository, readRepositoryModel, MODEL_FILE, type RepositoryModel } from './repository';
export {
  RuntimeError, InvalidRequestError, ModelNotFoundError, ModelUnavailableError, ModelLoadFailedError,
  OverloadedError, CapacityError, RequestTimeoutError, DeadlineExceededError, RequestCancelledError, ShuttingDownError, ExecutionError,
  InstanceRestartingError, InstanceFailedError,
  errorCode,
} from './errors';
export type { SubmitOptions, CancelSignal, CancelReason } from './scheduler';
export { systemClock, type Clock } from './clock';
export { DEFAULT_RESTART_POLICY, type RestartPolicy } from './restart-budget';
export type { LoadedModel } from './loaded-model';
