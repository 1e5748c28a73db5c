// Messages between the runtime (main thread) and an instance's worker thread.
import type { EngineOptions } from '../engine/engine';
import type { EngineChoice } from '../engine/select';
import type { ModelConfig } from './config';
import type { EngineCause } from './engine-choice';
import type { InstanceReady } from './instance-session';
import type { Feeds, HostTensor } from '../engine/tensor';
import type { RegionId, SharedBatch } from './shared-tensors';

export interface WorkerInit {
  file: string;
  engine: EngineOptions;
  device: 'cpu' | 'cuda';
  choice: EngineChoice;
  /** For 'auto': the model's config and name, to time both engines on its warm-up inputs. */
  model: { name: string; config: ModelConfig };
}

export interface EngineInfo {
  engine: 'ort' | 'native';
  cause: EngineCause;
  reason: string;
}

export type ToWorker =
  | { type: 'run'; id: number; feeds: Feeds; outputs?: string[] }
  | { type: 'dispose' };

export type FromWorker =
  | ({ type: 'ready' } & InstanceReady)
  | { type: 'load-error'; message: string }
  | { type: 'result'; id: number; outputs: Record<string, HostTensor>; computeMs: number }
  | { type: 'run-error'; id: number; message: string }
  | { type: 'disposed' };

/** True when the typed array covers its whole (non-shared) buffer, so the buffer can be transferred. */
export function ownsBuffer(data: HostTensor['data']): boolean {
  return !Array.isArray(data) && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && !(data.buffer instanceof SharedArrayBuffer);
}

/** Buffers of tensors that can move to another thread without a copy. */
export function transferList(tensors: Iterable<HostTensor>): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const t of tensors) if (ownsBuffer(t.data)) buffers.add((t.data as Exclude<HostTensor['data'], string[]>).buffer as ArrayBuffer);
  return [...buffers];
}

/**
 * Messages between the server and an instance's child process (isolation 'process'). A run's tensors
 * are either in the message (feeds, outputs) or in a block of the sender's shared region (shared);
 * released names the child's output blocks the server has copied out, so the child may reuse them.
 */
export type HostMessage =
  | { type: 'init'; init: WorkerInit }
  | { type: 'run'; id: number; feeds?: Feeds; shared?: SharedBatch; outputs?: string[]; released: { region: RegionId; block: number }[] }
  | { type: 'dispose' };

export type FromHost =
  | ({ type: 'ready' } & InstanceReady)
  | { type: 'load-error'; message: string }
  | { type: 'result'; id: number; outputs?: Record<string, HostTensor>; shared?: SharedBatch; computeMs: number }
  | { type: 'run-error'; id: number; message: string }
  | { type: 'disposed' };
