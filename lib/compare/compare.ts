// compareModels: runs two models on the same inputs in onnxruntime and reports
// accuracy per output and size, load time and latency per model. Every pass
// reports its accuracy and speed through this code.
import type { EngineOptions, Session } from '../engine/engine';
import { loadWithEngine, type EngineChoice } from '../engine/select';
import { modelFilesBytes } from '../onnx/model-files';
import type { Feeds } from '../engine/tensor';
import { adaptFeeds } from './adapt-feeds';
import { GenerateOptions, generateFeeds, readSamplesDir } from './inputs';
import { checkShapeOverrides } from './input-shapes';
import { LatencyStats, measureLatency } from './latency';
import { compareOutput, mergeMetrics, OutputMetrics } from './metrics';
import { labelledAccuracy, loadLabelledSet, type EvalData, type LabelledAccuracy } from './labelled-accuracy';

export type ModelSource = string | Uint8Array;

export interface CompareOptions extends GenerateOptions {
  /** Folder of samples (see readSamplesDir); generated inputs otherwise. */
  inputsDir?: string;
  /** Explicit samples (API only); wins over inputsDir. */
  samples?: Feeds[];
  /** Number of generated samples; default 4. */
  sampleCount?: number;
  /** Timed runs per model for latency; 0 skips latency. Default 10. */
  latencyRuns?: number;
  engine?: EngineOptions;
  /** Engine for model A (default 'ort', the reference). */
  engineA?: EngineChoice;
  /** Engine for model B (default 'ort'). */
  engineB?: EngineChoice;
  onProgress?: (done: number, total: number) => void;
  /** Labelled samples: report the top-1 accuracy of both models against the labels, not only their agreement. */
  eval?: EvalData;
}

export interface ModelFigures {
  source: string;
  /** The engine that ran the model, and why (for 'auto'). */
  engine: 'ort' | 'native';
  engineReason: string;
  fileBytes: number;
  loadMs: number;
  latency: LatencyStats | null;
}

export interface CompareReport {
  samples: number;
  inputsGenerated: boolean;
  outputs: OutputMetrics[];
  a: ModelFigures;
  b: ModelFigures;
  /** b's median latency over a's (below 1 means b is faster). */
  latencyRatio: number | null;
  /** Top-1 accuracy of A and B against true labels (with `eval`); absent otherwise. */
  accuracy?: LabelledAccuracy;
}

function describe(source: ModelSource): { label: string; bytes: number } {
  if (typeof source === 'string') return { label: source, bytes: modelFilesBytes(source) };
  return { label: '<bytes>', bytes: source.byteLength };
}

interface TimedLoad {
  session: Session;
  engine: 'ort' | 'native';
  reason: string;
  ms: number;
}

async function timedLoad(choice: EngineChoice, source: ModelSource, options?: EngineOptions): Promise<TimedLoad> {
  const start = process.hrtime.bigint();
  const loaded = await loadWithEngine(source, choice, options);
  return { ...loaded, ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

function checkSameInputs(a: Session, b: Session): void {
  const bNames = new Set(b.inputs.map((i) => i.name));
  const missing = a.inputs.filter((i) => !bNames.has(i.name)).map((i) => i.name);
  if (missing.length) throw new Error(`model B lacks inputs of model A: ${missing.join(', ')}`);
}

export async function compareModels(a: ModelSource, b: ModelSource, options: CompareOptions = {}): Promise<CompareReport> {
  const loadA = await timedLoad(options.engineA ?? 'ort', a, options.engine);
  let loadB: TimedLoad | undefined;
  try {
    loadB = await timedLoad(options.engineB ?? 'ort', b, options.engine);
    const sa = loadA.session;
    const sb = loadB.session;
    checkSameInputs(sa, sb);
    const generated = !options.samples && !options.inputsDir;
    if (generated) checkShapeOverrides(sa.inputs, options);
    const samples =
      options.samples ??
      (options.inputsDir
        ? readSamplesDir(options.inputsDir, sa.inputs)
        : Array.from({ length: options.sampleCount ?? 4 }, (_, i) => generateFeeds(sa.inputs, i, options)));
    const shared = sb.outputs.map((o) => o.name).filter((n) => sa.outputs.some((o) => o.name === n));
    if (shared.length === 0) throw new Error('the models share no output names to compare');
    const perOutput = new Map<string, OutputMetrics[]>();
    for (let s = 0; s < samples.length; s++) {
      const [ra, rb] = [await sa.run(samples[s], shared), await sb.run(adaptFeeds(samples[s], sb.inputs), shared)];
      for (const name of shared) {
        const list = perOutput.get(name) ?? [];
        list.push(compareOutput(name, ra[name], rb[name]));
        perOutput.set(name, list);
      }
      options.onProgress?.(s + 1, samples.length);
    }
    const runs = options.latencyRuns ?? 10;
    const latencyA = runs > 0 ? await measureLatency(sa, samples[0], { runs }) : null;
    const latencyB = runs > 0 ? await measureLatency(sb, adaptFeeds(samples[0], sb.inputs), { runs }) : null;
    const accuracy = options.eval ? await labelledAccuracy(sa, sb, loadLabelledSet(options.eval, sa.inputs)) : undefined;
    const da = describe(a);
    const db = describe(b);
    return {
      samples: samples.length,
      inputsGenerated: generated,
      outputs: shared.map((n) => mergeMetrics(perOutput.get(n) as OutputMetrics[])),
      a: { source: da.label, engine: loadA.engine, engineReason: loadA.reason, fileBytes: da.bytes, loadMs: loadA.ms, latency: latencyA },
      b: { source: db.label, engine: loadB.engine, engineReason: loadB.reason, fileBytes: db.bytes, loadMs: loadB.ms, latency: latencyB },
      latencyRatio: latencyA && latencyB ? latencyB.medianMs / latencyA.medianMs : null,
      ...(accuracy ? { accuracy } : {}),
    };
  } finally {
    await loadA.session.dispose();
    await loadB?.session.dispose();
  }
}
