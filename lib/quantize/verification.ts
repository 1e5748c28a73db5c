// The verification run of a quantize pass: the result against the original in onnxruntime. When the
// original itself cannot run on the inputs (generated ones a model rejects: an index out of range, a
// shape value), that is no failure of the pass: the result is kept and the report says why it was
// not verified and how to give inputs that work.
import { compareModels, type CompareReport } from '../compare/compare';
import { generateFeeds } from '../compare/inputs';
import { OrtEngine } from '../engine/ort-engine';
import type { Feeds } from '../engine/tensor';
import type { ResolvedOptions } from './options';
import { inputMetadata } from './calibrate';
import type { Model } from '../onnx/model';

const VERIFY_SAMPLE_LIMIT = 32;

export type Verification = { report: CompareReport; skipped: null } | { report: null; skipped: string };

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0];

/** The first line of the error the original model raises on `feeds`, or undefined when it runs. */
async function originalFailure(source: Uint8Array | string, feeds: Feeds, o: ResolvedOptions): Promise<string | undefined> {
  let session;
  try {
    session = await new OrtEngine().load(source, o.engine);
    await session.run(feeds);
    return undefined;
  } catch (err) {
    return messageOf(err);
  } finally {
    await session?.dispose();
  }
}

/** Runs the comparison; a failure of the original on the inputs becomes a skip with its reason. */
export async function verifyQuantized(sourceModel: Model, original: Uint8Array | string, result: Uint8Array | string, o: ResolvedOptions,
  samples: Feeds[] | undefined): Promise<Verification> {
  const given = samples?.slice(0, VERIFY_SAMPLE_LIMIT);
  try {
    const report = await compareModels(original, result, {
      samples: given,
      sampleCount: o.verifySamples ?? 4,
      latencyRuns: o.latencyRuns ?? 10,
      seed: o.seed,
      dims: o.dims,
      shapes: o.shapes,
      values: o.values,
      engine: o.engine,
      eval: o.eval,
      onProgress: (done, total) => o.onProgress?.('verify', done, total),
    });
    return { report, skipped: null };
  } catch (err) {
    const inputs = given ?? Array.from({ length: o.verifySamples ?? 4 }, (_, i) => generateFeeds(inputMetadata(sourceModel), i, o));
    for (const feeds of inputs) {
      const failure = await originalFailure(original, feeds, o);
      if (failure === undefined) continue;
      const kind = given ? 'the given samples' : 'generated inputs';
      return {
        report: null,
        skipped: `verification skipped: the original model fails on ${kind} (${failure}); `
          + 'give inputs it accepts with --calibration DIR, or fix generated ones with --value NAME=V / --shape NAME=D1,D2 / --dim NAME=N',
      };
    }
    throw err;
  }
}
