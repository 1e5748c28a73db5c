// What the HTTP server needs from whatever runs the models: ModelRuntime in-process, or the
// cluster's workers behind a ClusterClient (serve --cluster).
import type { Registry } from 'prom-client';
import type { Feeds } from '../engine/tensor';
import type { IndexEntry, InferOptions, InferResult, ModelMetadata } from '../runtime/runtime';

export interface InferenceBackend {
  /** Ready to answer (eager models loaded; or Redis reachable), and not shutting down. */
  readonly ready: boolean;
  start(): Promise<void>;
  close(): Promise<void>;
  infer(name: string, feeds: Feeds, options: InferOptions): Promise<InferResult>;
  metadata(name: string, version?: number): Promise<ModelMetadata>;
  /** Throws for an unknown model or version. */
  isModelReady(name: string, version?: number): boolean | Promise<boolean>;
  index(): IndexEntry[] | Promise<IndexEntry[]>;
  load(name: string): Promise<void>;
  unload(name: string): Promise<void>;
  readonly metrics: { readonly registry: Registry };
}
