// Scores candidate models against the float model on fixed samples: the worst output cosine and, with
// labelled samples, top-1 accuracy. The float outputs and accuracy are computed once.
import { OrtEngine } from '../../engine/ort-engine';
import type { EngineOptions, Session } from '../../engine/engine';
import type { Feeds, HostTensor } from '../../engine/tensor';
import { compareOutput, mergeMetrics, type OutputMetrics } from '../../compare/metrics';
import { predictions, scoredOutput, top1, type LabelledSet } from '../../compare/labelled-accuracy';

export interface Score {
  /** Worst cosine over outputs and samples; for one-value outputs, 1 - their max relative error. */
  cosine: number;
  /** Top-1 accuracy on the labelled set; null without one. */
  accuracy: number | null;
}

function worstCosine(metrics: OutputMetrics[]): number {
  return Math.min(...metrics.map((m) => m.cosine ?? 1 - m.maxRelativeError));
}

export class Scorer {
  private constructor(
    private readonly samples: Feeds[],
    private readonly outputs: string[],
    private readonly reference: Record<string, HostTensor>[],
    private readonly labelled: LabelledSet | undefined,
    private readonly scoredName: string | undefined,
    readonly floatAccuracy: number | null,
    private readonly engine: EngineOptions | undefined,
  ) {}

  static async create(float: Uint8Array | string, samples: Feeds[], labelled: LabelledSet | undefined, engine?: EngineOptions): Promise<Scorer> {
    const session = await new OrtEngine().load(float, engine);
    try {
      const outputs = session.outputs.map((o) => o.name);
      const reference = [];
      for (const feeds of samples) reference.push(await session.run(feeds, outputs));
      const scored = labelled ? scoredOutput(session, labelled.output) : undefined;
      const accuracy = labelled && scored ? top1(await predictions(session, labelled.samples, scored), labelled.labels) : null;
      return new Scorer(samples, outputs, reference, labelled, scored, accuracy, engine);
    } finally {
      await session.dispose();
    }
  }

  async score(candidate: Uint8Array | string): Promise<Score> {
    const session: Session = await new OrtEngine().load(candidate, this.engine);
    try {
      const perOutput = new Map<string, OutputMetrics[]>();
      for (let s = 0; s < this.samples.length; s++) {
        const result = await session.run(this.samples[s], this.outputs);
        for (const name of this.outputs) perOutput.set(name, [...(perOutput.get(name) ?? []), compareOutput(name, this.reference[s][name], result[name])]);
      }
      const cosine = worstCosine(this.outputs.map((n) => mergeMetrics(perOutput.get(n) as OutputMetrics[])));
      const accuracy = this.labelled && this.scoredName ? top1(await predictions(session, this.labelled.samples, this.scoredName), this.labelled.labels) : null;
      return { cosine, accuracy };
    } finally {
      await session.dispose();
    }
  }
}
