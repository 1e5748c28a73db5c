// Which engine an instance runs: 'ort' or 'native' as configured, or for 'auto' the native engine
// when it runs every node of the model AND its warm-up runs are faster than onnxruntime's.
import { performance } from 'perf_hooks';
import type { Session } from '../engine/engine';
import type { EngineChoice } from '../engine/select';
import type { Feeds } from '../engine/tensor';

/** Why an instance runs its engine, short enough for a metric label. */
export type EngineCause = 'requested' | 'native_faster' | 'ort_faster' | 'native_unsupported' | 'not_measured' | 'device';

export interface EngineDecision {
  session: Session;
  engine: 'ort' | 'native';
  cause: EngineCause;
  /** The cause in words: what the native engine could not run, or the times measured. */
  reason: string;
}

export interface EngineLoaders {
  ort(): Promise<Session>;
  native(): Promise<Session>;
}

/** Milliseconds per run of a session on the warm-up inputs (lower is faster); rejects when it cannot measure. */
export type MeasureRun = (session: Session, engine: 'ort' | 'native') => Promise<number>;

export async function chooseEngine(choice: EngineChoice, device: 'cpu' | 'cuda', load: EngineLoaders, measure: MeasureRun): Promise<EngineDecision> {
  if (choice === 'ort') return { session: await load.ort(), engine: 'ort', cause: 'requested', reason: 'engine "ort" in the config' };
  if (choice === 'native') return { session: await load.native(), engine: 'native', cause: 'requested', reason: 'engine "native" in the config' };
  if (device === 'cuda') return { session: await load.ort(), engine: 'ort', cause: 'device', reason: 'auto: the native engine runs on the CPU only, this instance is on cuda' };
  let native: Session;
  try {
    native = await load.native();
  } catch (err) {
    // Whatever the native engine cannot load, onnxruntime may: it is the general-purpose engine.
    const reason = `auto: ${(err as Error).message}`;
    return { session: await load.ort(), engine: 'ort', cause: 'native_unsupported', reason };
  }
  let ort: Session;
  try {
    ort = await load.ort();
  } catch (err) {
    await native.dispose();
    throw err;
  }
  let nativeMs: number;
  let ortMs: number;
  try {
    nativeMs = await measure(native, 'native');
    ortMs = await measure(ort, 'ort');
  } catch (err) {
    await native.dispose();
    return { session: ort, engine: 'ort', cause: 'not_measured', reason: `auto: could not time the engines on warm-up inputs (${(err as Error).message}); onnxruntime` };
  }
  const times = `native ${nativeMs.toFixed(3)} ms vs onnxruntime ${ortMs.toFixed(3)} ms per warm-up run`;
  if (nativeMs < ortMs) {
    await ort.dispose();
    return { session: native, engine: 'native', cause: 'native_faster', reason: `auto: the native engine runs every node and is faster (${times})` };
  }
  await native.dispose();
  return { session: ort, engine: 'ort', cause: 'ort_faster', reason: `auto: onnxruntime is faster (${times})` };
}

/**
 * The median time of one pass over `feeds`, over `rounds` passes after one untimed pass: what `measure`
 * does in an instance. Medians, so one pass slowed by another process does not decide.
 */
export async function timeRuns(session: Session, feeds: readonly Feeds[], rounds: number): Promise<number> {
  if (feeds.length === 0) throw new Error('no warm-up inputs');
  for (const f of feeds) await session.run(f);
  const passes: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    for (const f of feeds) await session.run(f);
    passes.push((performance.now() - start) / feeds.length);
  }
  passes.sort((a, b) => a - b);
  return passes[Math.floor(passes.length / 2)];
}
