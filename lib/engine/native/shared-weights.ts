// Packed weights are shared by every session of the same model in the process: keyed by the
// file (path, size, modification time) or by the bytes' identity, released with the last session.
import * as fs from 'fs';
import type { EngineWeights } from '../../../binding';
import type { LinearChoice } from './weights';
import type { PreparedModel } from './prepare';

export interface SharedModel {
  prepared: PreparedModel;
  weights: EngineWeights;
  choices: LinearChoice[];
  sessions: number;
  /** Drops the model from the table it was shared through (set by acquireShared). */
  forget?: () => void;
}

const byKey = new Map<string, SharedModel>();
const byBytes = new WeakMap<Uint8Array, Map<string, SharedModel>>();

function fileKey(file: string, options: string): string {
  const stat = fs.statSync(file);
  return `${fs.realpathSync(file)}:${stat.size}:${stat.mtimeMs}:${options}`;
}

/** The shared model for this source and kernel options, made by `create` when there is none. */
export function acquireShared(source: string | Uint8Array, options: string, create: () => SharedModel): SharedModel {
  if (typeof source === 'string') {
    const key = fileKey(source, options);
    let shared = byKey.get(key);
    if (!shared) {
      shared = create();
      shared.forget = () => byKey.delete(key);
      byKey.set(key, shared);
    }
    shared.sessions++;
    return shared;
  }
  let perBytes = byBytes.get(source);
  if (!perBytes) {
    perBytes = new Map();
    byBytes.set(source, perBytes);
  }
  let shared = perBytes.get(options);
  if (!shared) {
    shared = create();
    shared.forget = () => perBytes!.delete(options);
    perBytes.set(options, shared);
  }
  shared.sessions++;
  return shared;
}

export function releaseShared(shared: SharedModel): void {
  shared.sessions--;
  if (shared.sessions > 0) return;
  // Forgotten too when shared by the bytes' identity: a later load of the same bytes packs afresh.
  shared.forget?.();
  shared.weights.dispose();
}
