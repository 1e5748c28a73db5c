// The engine contract: load a model into a session, run feeds, dispose.
import type { Feeds, HostTensor, TensorType } from './tensor';

export interface ValueMetadata {
  name: string;
  type: TensorType | string;
  /** Numbers for fixed dims, strings for symbolic ones, null when unknown. */
  shape: readonly (number | string | null)[] | null;
}

export interface Session {
  readonly inputs: readonly ValueMetadata[];
  readonly outputs: readonly ValueMetadata[];
  run(feeds: Feeds, outputNames?: readonly string[]): Promise<Record<string, HostTensor>>;
  dispose(): Promise<void>;
}

export interface EngineOptions {
  /** Threads inside one run (onnxruntime intra-op threads); default: the runtime's own. */
  threads?: number;
  /** onnxruntime graph optimization level; default 'all'. */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Execution providers in order of preference; default ['cpu'] (or as `device` says). */
  executionProviders?: readonly string[];
  /**
   * Shorthand for executionProviders: 'cpu' (default); 'cuda': ['cuda', 'cpu'] (ops CUDA lacks run on
   * the CPU), an OrtCudaUnavailableError saying why when onnxruntime-node cannot run CUDA here;
   * 'auto': 'cuda' when it can, else 'cpu'.
   */
  device?: 'cpu' | 'cuda' | 'auto';
  /**
   * onnxruntime's CPU memory arena and memory pattern (default true, onnxruntime's own default). The
   * arena keeps the peak of every request for the life of the session; false returns it after each run.
   */
  memoryArena?: boolean;
}

export interface Engine {
  readonly name: string;
  load(model: string | Uint8Array, options?: EngineOptions): Promise<Session>;
}
