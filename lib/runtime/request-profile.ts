// Where one inference request's time goes inside the server, stage by stage. Off unless the process
// starts with ONNXFORGE_SERVE_PROFILE=1 (bench/serve.ts sets it): every hook is then one check of a
// constant. The marks are one set per process, so the breakdown is exact for one request at a time
// (concurrency 1), which is what it is for: the fixed cost a request pays on top of the model.
import { performance } from 'perf_hooks';

export const profiling = process.env.ONNXFORGE_SERVE_PROFILE === '1';

/** Points on a request's path, in the order it passes them. */
export type ProfileMark =
  | 'request' | 'bodyRead' | 'parsed' | 'handler' | 'decoded' | 'validate' | 'validated'
  | 'dispatch' | 'posted' | 'replied' | 'resumed' | 'encoded' | 'written' | 'finished';

/** A stage: the time between two marks (compute comes from the instance itself). */
export const PROFILE_STAGES: readonly { stage: string; from: ProfileMark; to: ProfileMark; what: string }[] = [
  { stage: 'body read', from: 'request', to: 'bodyRead', what: 'request event to the whole body in hand (routing, body chunks)' },
  { stage: 'body parse', from: 'bodyRead', to: 'parsed', what: 'content type, JSON header parse (lib/serve/body.ts)' },
  { stage: 'fastify', from: 'parsed', to: 'handler', what: 'body parsed to the infer handler (fastify hooks; nothing on the raw infer path)' },
  { stage: 'decode', from: 'handler', to: 'decoded', what: 'auth, request JSON to tensors (lib/serve/codec.ts)' },
  { stage: 'runtime entry', from: 'decoded', to: 'validate', what: 'model and version lookup, metrics' },
  { stage: 'validate', from: 'validate', to: 'validated', what: 'feeds against the model (lib/runtime/validate.ts)' },
  { stage: 'schedule', from: 'validated', to: 'dispatch', what: 'queue entry, batcher, dispatch to an instance' },
  { stage: 'post', from: 'dispatch', to: 'posted', what: 'postMessage to the worker (structured clone or transfer); nothing on isolation none' },
  { stage: 'worker hop', from: 'posted', to: 'replied', what: 'to the worker and back, less compute (thread wake-ups, clone of outputs); on isolation none, the engine call and its promise, less compute' },
  { stage: 'return', from: 'replied', to: 'resumed', what: 'result message to the handler (split, settle, promise hops)' },
  { stage: 'encode', from: 'resumed', to: 'encoded', what: 'outputs to the response body (lib/serve/codec.ts)' },
  { stage: 'write', from: 'encoded', to: 'written', what: 'status line, headers and body handed to the socket: the write syscall the client waits for' },
  { stage: 'finish', from: 'written', to: 'finished', what: 'write call returned to Node\'s finish event (write completion callbacks, event-loop turns; after the bytes left)' },
];

const marks: Partial<Record<ProfileMark, number>> = {};
let computeMs = 0;
const samples = new Map<string, number[]>();
const MAX_SAMPLES = 100_000;

export function mark(point: ProfileMark): void {
  marks[point] = performance.now();
}

/** The engine time the instance measured for the current request. */
export function markCompute(ms: number): void {
  computeMs = ms;
}

function push(stage: string, ms: number): void {
  let list = samples.get(stage);
  if (!list) samples.set(stage, (list = []));
  if (list.length < MAX_SAMPLES) list.push(ms);
}

/** Ends one request: its stage times join the samples (a request missing a mark, e.g. an error, is dropped). */
export function finishRequest(): void {
  mark('finished');
  // Only the raw infer route marks its write; on fastify's route the write is all in 'finish'.
  marks.written ??= marks.encoded;
  const all = PROFILE_STAGES.every((s) => marks[s.from] !== undefined && marks[s.to] !== undefined);
  if (all) {
    for (const s of PROFILE_STAGES) {
      const ms = marks[s.to]! - marks[s.from]!;
      push(s.stage, s.stage === 'worker hop' ? ms - computeMs : ms);
    }
    push('compute', computeMs);
    push('total in server', marks.finished! - marks.request!);
  }
  for (const key of Object.keys(marks) as ProfileMark[]) delete marks[key];
}

export interface StageSummary {
  stage: string;
  what: string;
  requests: number;
  p50Ms: number;
  meanMs: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)] : NaN;
}

export function profileSummary(): StageSummary[] {
  const rows = [...PROFILE_STAGES, { stage: 'compute', what: 'engine run in the instance' }, { stage: 'total in server', what: 'request event to response written' }];
  return rows.map(({ stage, what }) => {
    const list = samples.get(stage) ?? [];
    return { stage, what, requests: list.length, p50Ms: median(list), meanMs: list.reduce((a, b) => a + b, 0) / Math.max(1, list.length) };
  });
}

export function resetProfile(): void {
  samples.clear();
}
