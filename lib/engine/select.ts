// Choosing an engine by name: 'ort' (onnxruntime-node), 'native' (onnxforge's kernels), or
// 'auto': native when it runs every node of the model, else onnxruntime, saying why.
import type { Engine, EngineOptions, Session } from './engine';
import { NativeEngine, type NativeEngineOptions } from './native/native-engine';
import { NativeEngineUnsupportedError } from './native/errors';
import { OrtEngine } from './ort-engine';

export type EngineChoice = 'ort' | 'native' | 'auto';
export const ENGINE_CHOICES: readonly EngineChoice[] = ['ort', 'native', 'auto'];

export interface LoadedSession {
  session: Session;
  engine: 'ort' | 'native';
  /** Why this engine ran the model (for 'auto': what the native engine could not run). */
  reason: string;
}

export function engineByName(name: 'ort' | 'native'): Engine {
  return name === 'native' ? new NativeEngine() : new OrtEngine();
}

export async function loadWithEngine(model: string | Uint8Array, choice: EngineChoice,
  options: EngineOptions & NativeEngineOptions = {}): Promise<LoadedSession> {
  if (choice === 'ort') return { session: await new OrtEngine().load(model, options), engine: 'ort', reason: 'requested' };
  if (choice === 'native') return { session: await new NativeEngine().load(model, options), engine: 'native', reason: 'requested' };
  try {
    return { session: await new NativeEngine().load(model, options), engine: 'native', reason: 'the native engine runs every node' };
  } catch (err) {
    if (!(err instanceof NativeEngineUnsupportedError)) throw err;
    return { session: await new OrtEngine().load(model, options), engine: 'ort', reason: err.message };
  }
}
