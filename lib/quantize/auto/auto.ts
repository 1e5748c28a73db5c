// quantize(model, { mode: 'auto' }): tries the recipes of recipes.ts on the calibration samples, scores
// each against the float model (worst output cosine, and top-1 accuracy with labelled eval data), times
// each with the latency source, and returns the fastest one within the budget — or the float model
// when none is both within budget and faster (goal 'speed', the default). With goal 'size' it returns
// the smallest within budget, even if slower, and says so. Deterministic for a seed: the samples, the
// quantization and the scores are; the choice then depends only on the latency source (injectable).
import { summaryLine } from '../summary';
import { collectSamples, inputMetadata } from '../calibrate';
import { loadLabelledSet, type LabelledSet } from '../../compare/labelled-accuracy';
import type { Feeds } from '../../engine/tensor';
import type { Model } from '../../onnx/model';
import { modelSource } from '../model-source';
import { resolveOptions, type QuantizeOptions } from '../options';
import type { QuantizeReport } from '../report';
import type { QuantizeResult } from '../quantize';
import type { AutoBudget, AutoCandidate, AutoGoal, AutoReport } from './auto-report';
import { onnxruntimeLatency, type LatencySource } from './latency';
import { baseRecipes, graphMix, sensitiveCounts, staticRecipe, type Recipe } from './recipes';
import { Scorer, type Score } from './scorer';
import { layerSensitivity, type LayerSensitivity } from './sensitivity';
import { compareModels } from '../../compare/compare';

type QuantizeFn = (model: Model, options: QuantizeOptions) => Promise<QuantizeResult>;

/** Default cosine budget without labels: the bound below which quantize already warns about an output. */
export const DEFAULT_MIN_COSINE = 0.99;
/** Default accuracy budget with labels: one point of top-1. */
export const DEFAULT_MAX_ACCURACY_DROP = 0.01;
const SCORING_SAMPLES = 16;
/** A candidate counts as faster only when float takes this many times its latency (timing noise guard). */
export const DEFAULT_MIN_SPEEDUP = 1.05;

export function autoBudget(options: QuantizeOptions): AutoBudget {
  const { maxAccuracyDrop, minCosine } = options;
  if (maxAccuracyDrop !== undefined) {
    if (!(maxAccuracyDrop >= 0 && maxAccuracyDrop <= 1)) throw new RangeError(`max accuracy drop must be in [0, 1], got ${maxAccuracyDrop}`);
    if (!options.eval) throw new RangeError('a max accuracy drop needs labelled eval data (--eval DIR --eval-labels labels.npy)');
  }
  if (minCosine !== undefined && !(minCosine > -1 && minCosine <= 1)) throw new RangeError(`min cosine must be in (-1, 1], got ${minCosine}`);
  const drop = maxAccuracyDrop ?? (options.eval && minCosine === undefined ? DEFAULT_MAX_ACCURACY_DROP : null);
  return { maxAccuracyDrop: drop, minCosine: minCosine ?? (drop === null ? DEFAULT_MIN_COSINE : null) };
}

function meets(budget: AutoBudget, score: Score, floatAccuracy: number | null): boolean {
  if (budget.minCosine !== null && !(score.cosine >= budget.minCosine)) return false;
  if (budget.maxAccuracyDrop !== null) {
    if (score.accuracy === null || floatAccuracy === null) return false;
    // A hair of tolerance: accuracies are ratios of counts, and 1 - 0.99 is not exactly 0.01 in floats.
    if (floatAccuracy - score.accuracy > budget.maxAccuracyDrop + 1e-12) return false;
  }
  return true;
}

/** What every candidate inherits from the caller: inputs, shapes, seed, engine, node choices. */
function inherited(options: QuantizeOptions): QuantizeOptions {
  const { mode: _mode, maxAccuracyDrop: _d, minCosine: _c, goal: _g, autoRuns: _r, latencySource: _l, minSpeedup: _s, eval: _e, onProgress: _p, verify: _v, algorithm: _a, actOrder: _o, smoothQuant: _sq, ...rest } = options;
  return { ...rest, mode: 'static' };
}

interface Tried {
  recipe: Recipe;
  candidate: AutoCandidate;
  result?: QuantizeResult;
}

export async function quantizeAuto(source: Model, options: QuantizeOptions, quantize: QuantizeFn): Promise<QuantizeResult> {
  const budget = autoBudget(options);
  const goal: AutoGoal = options.goal ?? 'speed';
  if (goal !== 'speed' && goal !== 'size') throw new RangeError(`goal must be speed or size, got "${goal}"`);
  if (options.minSpeedup !== undefined && !(options.minSpeedup >= 1)) throw new RangeError(`min speed-up must be >= 1, got ${options.minSpeedup}`);
  const seed = options.seed ?? 0;
  const base = inherited(options);
  const resolved = resolveOptions({ ...base, calibration: options.calibration, smoothQuant: options.smoothQuant });
  const inputs = inputMetadata(source);
  const { samples, generated } = await collectSamples(resolved, inputs);
  const labelled: LabelledSet | undefined = options.eval ? loadLabelledSet(options.eval, inputs) : undefined;
  const scoring = labelled ? labelled.samples.slice(0, SCORING_SAMPLES) : samples.slice(0, SCORING_SAMPLES);
  const latency: LatencySource = options.latencySource ?? onnxruntimeLatency(options.autoRuns ?? 5, options.engine);
  const feeds: Feeds = scoring[0];
  const float = modelSource(source, 'float');
  const progress = (done: number, total: number) => options.onProgress?.('auto', done, total);
  try {
    const scorer = await Scorer.create(float.source, scoring, labelled, options.engine);
    const floatLatency = await latency({ label: 'float', model: float.source, feeds });
    const mix = graphMix(source);
    const tried: Tried[] = [];
    const recipes = baseRecipes(mix, options.smoothQuant);
    const later = recipes.filter((r) => r.options.mode !== 'static');
    let total = recipes.length;

    const attempt = async (recipe: Recipe): Promise<Tried> => {
      // The weight algorithm the caller chose (rtn or gptq) applies to the int4 recipe only.
      const int4 = recipe.options.mode === 'weight-only' && recipe.options.bits === 4 ? { algorithm: options.algorithm, actOrder: options.actOrder } : {};
      const options2: QuantizeOptions = { ...base, ...recipe.options, ...int4, exclude: [...(base.exclude ?? []), ...(recipe.options.exclude ?? [])], calibration: samples, verify: false, seed };
      let t: Tried;
      try {
        const result = await quantize(source, options2);
        const out = modelSource(result.model, 'candidate');
        try {
          const score = await scorer.score(out.source);
          const ms = await latency({ label: recipe.label, model: out.source, feeds });
          t = {
            recipe, result,
            candidate: { recipe: recipe.label, cosine: score.cosine, accuracy: score.accuracy, sizeBytes: out.bytes, latencyMs: ms, speedup: floatLatency / ms, meetsBudget: meets(budget, score, scorer.floatAccuracy) },
          };
        } finally {
          out.dispose();
        }
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        t = { recipe, candidate: { recipe: recipe.label, cosine: null, accuracy: null, sizeBytes: 0, latencyMs: null, speedup: null, meetsBudget: false, error: message } };
      }
      tried.push(t);
      progress(tried.length, total);
      return t;
    };

    const statics: Tried[] = [];
    for (const r of recipes.filter((x) => x.options.mode === 'static')) statics.push(await attempt(r));
    // The most accurate static recipe (accuracy first when labelled, then cosine) seeds the sensitivity scan.
    const usable = statics.filter((t) => t.result && t.candidate.cosine !== null);
    const best = usable.sort((a, b) => (b.candidate.accuracy ?? 0) - (a.candidate.accuracy ?? 0) || (b.candidate.cosine as number) - (a.candidate.cosine as number))[0];
    let sensitivity: LayerSensitivity[] = [];
    if (best?.result && options.sensitivity !== false) {
      const layers = best.result.report.quantized;
      const counts = sensitiveCounts(layers.length);
      total += counts.length;
      sensitivity = await layerSensitivity(quantize, source, { ...base, ...best.recipe.options, seed }, layers, samples, scorer,
        (done, n) => options.onProgress?.('sensitivity', done, n));
      for (const k of counts) await attempt(staticRecipe(best.recipe.options.method ?? 'minmax', sensitivity.slice(0, k).map((s) => s.node), best.recipe.options.smoothQuant));
    }
    for (const r of later) await attempt(r);
    // Float timed again after the candidates, and its better figure kept: a candidate has to beat float at its best.
    const floatAgain = await latency({ label: 'float', model: float.source, feeds });
    const floatBest = Math.min(floatLatency, floatAgain);
    for (const t of tried) if (t.candidate.latencyMs !== null) t.candidate.speedup = floatBest / t.candidate.latencyMs;
    const minSpeedup = options.minSpeedup ?? DEFAULT_MIN_SPEEDUP;
    const chosen = choose(tried, goal, floatBest, minSpeedup);
    const report: AutoReport = {
      budget, goal, seed, samples: scoring.length, generated: !labelled && generated,
      float: { sizeBytes: float.bytes, latencyMs: floatBest, accuracy: scorer.floatAccuracy },
      minSpeedup,
      sensitivity,
      candidates: tried.map((t) => t.candidate),
      chosen: chosen.tried?.recipe.label ?? 'float',
      reason: chosen.reason,
    };
    const warnings = generated && !labelled ? ['auto scored candidates on generated random inputs, not real data: pass calibration samples (--calibration) or labelled eval data'] : [];
    if (!chosen.tried?.result) return { model: source.clone(), report: floatReport(source, float.bytes, report, warnings) };
    const { model, report: chosenReport } = chosen.tried.result;
    let verification = null;
    if (options.verify !== false) {
      const out = modelSource(model, 'chosen');
      try {
        verification = await compareModels(float.source, out.source, { samples: scoring, latencyRuns: options.latencyRuns ?? 10, engine: options.engine, eval: labelled });
      } finally {
        out.dispose();
      }
    }
    return { model, report: withSummary({ ...chosenReport, mode: 'auto', verification, warnings: [...warnings, ...chosenReport.warnings, ...(chosen.warning ? [chosen.warning] : [])], auto: report }) };
  } finally {
    float.dispose();
  }
}

function choose(tried: Tried[], goal: AutoGoal, floatLatency: number, minSpeedup: number): { tried?: Tried; reason: string; warning?: string } {
  const within = tried.filter((t) => t.candidate.meetsBudget && t.result);
  const ms = (t: Tried) => t.candidate.latencyMs as number;
  const first = <T>(list: T[], better: (a: T, b: T) => boolean) => list.reduce<T | undefined>((best, x) => (best === undefined || better(x, best) ? x : best), undefined);
  if (within.length === 0) return { reason: 'no candidate met the budget: returning the float model' };
  if (goal === 'size') {
    const pick = first(within, (a, b) => a.candidate.sizeBytes < b.candidate.sizeBytes || (a.candidate.sizeBytes === b.candidate.sizeBytes && ms(a) < ms(b))) as Tried;
    const slower = ms(pick) >= floatLatency;
    return {
      tried: pick,
      reason: `smallest within budget (goal size): ${pick.candidate.sizeBytes} bytes${slower ? `, ${(ms(pick) / floatLatency).toFixed(2)}x float's latency` : ''}`,
      warning: slower ? `the chosen model (${pick.recipe.label}) is smaller but not faster than float (goal size)` : undefined,
    };
  }
  const faster = within.filter((t) => ms(t) * minSpeedup <= floatLatency && ms(t) < floatLatency);
  if (faster.length === 0) {
    return { reason: `${within.length} candidate(s) met the budget but none ran faster than float${minSpeedup > 1 ? ` by ${minSpeedup}x or more` : ''}: returning the float model` };
  }
  const pick = first(faster, (a, b) => ms(a) < ms(b)) as Tried;
  return { tried: pick, reason: `fastest within budget: ${(floatLatency / ms(pick)).toFixed(2)}x float's speed` };
}

function floatReport(source: Model, bytes: number, auto: AutoReport, warnings: string[]): QuantizeReport {
  const opset = source.opsetVersion('') ?? 1;
  return withSummary({
    mode: 'auto',
    format: 'float',
    quantized: [],
    skipped: [],
    opset: { from: opset, to: opset, converted: {}, raised: false, reason: null },
    batchNormsFolded: 0,
    domainsAdded: [],
    size: { beforeBytes: bytes, afterBytes: bytes, ratio: 1 },
    calibration: null,
    verification: null,
    warnings: [...warnings, `auto: ${auto.reason}`],
    hardSwishesRewritten: 0,
    verificationSkipped: null,
    auto,
  });
}

/** The report with its one-line summary written for what it now holds. */
function withSummary(report: Omit<QuantizeReport, 'summary'>): QuantizeReport {
  return { ...report, summary: summaryLine(report) };
}
