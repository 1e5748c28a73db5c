// What a prune run is asked to do, checked once up front, and how layer names match patterns.
import type { CompareOptions } from '../compare/compare';

export type PrunePattern = 'unstructured' | '2:4' | '4:8' | 'channel';
export const PRUNE_PATTERNS: readonly PrunePattern[] = ['unstructured', '2:4', '4:8', 'channel'];

export interface PruneOptions {
  pattern: PrunePattern;
  /**
   * Fraction removed: of each layer's weights (unstructured), or of each layer's output channels (channel).
   * N:M patterns fix it at 1 - N/M; giving another value is an error.
   */
  sparsity?: number;
  /** 'layer' (default): every layer loses the same fraction. 'global': one magnitude ranking over all layers. */
  scope?: 'layer' | 'global';
  /** Layers left dense; glob patterns (`*`, `?`) matched against node names and weight names. */
  exclude?: readonly string[];
  /** Per-layer sparsity, keyed by a glob pattern as in `exclude`; the last matching pattern wins; 0 keeps a layer dense. */
  layers?: Readonly<Record<string, number>>;
  /** Layers with fewer weights are skipped and listed (default 4096). */
  minParams?: number;
  /** Channel pattern: kept channel counts are rounded up to a multiple of this (default 1). */
  roundTo?: number;
}

export interface ResolvedOptions {
  pattern: PrunePattern;
  sparsity: number;
  scope: 'layer' | 'global';
  exclude: string[];
  layers: [string, number][];
  minParams: number;
  roundTo: number;
  /** N and M of an N:M pattern: at most N non-zeros in every group of M weights along the reduction axis. */
  nm?: { n: number; m: number };
}

export interface PruneRunOptions extends PruneOptions {
  /** Figures against the original model from compareModels; false skips them (default: compare). */
  compare?: CompareOptions | false;
}

function checkFraction(value: number, what: string): void {
  if (!Number.isFinite(value) || value < 0 || value >= 1) throw new RangeError(`${what} must be in [0, 1), got ${value}`);
}

export function resolveOptions(options: PruneOptions): ResolvedOptions {
  const { pattern } = options;
  if (!PRUNE_PATTERNS.includes(pattern)) throw new RangeError(`pattern must be one of ${PRUNE_PATTERNS.join(', ')}, got "${pattern}"`);
  const nmMatch = /^(\d+):(\d+)$/.exec(pattern);
  const nm = nmMatch ? { n: Number(nmMatch[1]), m: Number(nmMatch[2]) } : undefined;
  const scope = options.scope ?? 'layer';
  if (scope !== 'layer' && scope !== 'global') throw new RangeError(`scope must be "layer" or "global", got "${scope}"`);
  let sparsity: number;
  if (nm) {
    sparsity = 1 - nm.n / nm.m;
    if (options.sparsity !== undefined && Math.abs(options.sparsity - sparsity) > 1e-9) {
      throw new RangeError(`pattern ${pattern} keeps ${nm.n} of every ${nm.m} weights, so its sparsity is ${sparsity}; got ${options.sparsity}`);
    }
    if (scope === 'global') throw new RangeError(`pattern ${pattern} prunes within groups of ${nm.m} weights; --scope global applies to unstructured and channel pruning`);
  } else {
    if (options.sparsity === undefined) throw new RangeError(`pattern ${pattern} needs a sparsity`);
    sparsity = options.sparsity;
    checkFraction(sparsity, 'sparsity');
  }
  const layers = Object.entries(options.layers ?? {});
  for (const [name, value] of layers) {
    if (!nm) checkFraction(value, `sparsity of layer "${name}"`);
    else if (value !== 0 && Math.abs(value - sparsity) > 1e-9) {
      throw new RangeError(`pattern ${pattern} allows per-layer sparsity ${sparsity} or 0 (dense), got ${value} for "${name}"`);
    }
  }
  const minParams = options.minParams ?? 4096;
  const roundTo = options.roundTo ?? 1;
  if (!Number.isSafeInteger(minParams) || minParams < 0) throw new RangeError(`minParams must be a non-negative integer, got ${minParams}`);
  if (!Number.isSafeInteger(roundTo) || roundTo < 1) throw new RangeError(`roundTo must be a positive integer, got ${roundTo}`);
  return { pattern, sparsity, scope, exclude: [...(options.exclude ?? [])], layers, minParams, roundTo, nm };
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** Decides, per layer (known by its node name and weight name), whether it is excluded and what sparsity it gets. */
export class LayerSelector {
  private readonly exclude: { pattern: string; re: RegExp; used: boolean }[];
  private readonly overrides: { pattern: string; re: RegExp; sparsity: number; used: boolean }[];

  constructor(private readonly options: ResolvedOptions) {
    this.exclude = options.exclude.map((pattern) => ({ pattern, re: globToRegExp(pattern), used: false }));
    this.overrides = options.layers.map(([pattern, sparsity]) => ({ pattern, re: globToRegExp(pattern), sparsity, used: false }));
  }

  excluded(names: readonly string[]): boolean {
    const hit = this.exclude.find((e) => names.some((n) => e.re.test(n)));
    if (hit) hit.used = true;
    return hit !== undefined;
  }

  /** The layer's sparsity and whether it came from a per-layer override. */
  sparsityOf(names: readonly string[]): { sparsity: number; override: boolean } {
    const hits = this.overrides.filter((o) => names.some((n) => o.re.test(n)));
    hits.forEach((h) => (h.used = true));
    const last = hits[hits.length - 1];
    return last ? { sparsity: last.sparsity, override: true } : { sparsity: this.options.sparsity, override: false };
  }

  /** Patterns that matched no layer: almost always a typo worth telling the user about. */
  unusedPatterns(): string[] {
    return [
      ...this.exclude.filter((e) => !e.used).map((e) => `--exclude ${e.pattern} matched no layer`),
      ...this.overrides.filter((o) => !o.used).map((o) => `--layer ${o.pattern}=${o.sparsity} matched no layer`),
    ];
  }
}
