// quantize(model, options): the quantization pass. Reads a Model, returns a new Model and a report;
// the input is never modified.
import type { CompareReport } from '../compare/compare';
import { accuracyWarnings } from '../compare/accuracy-warnings';
import type { Feeds } from '../engine/tensor';
import type { Model } from '../onnx/model';
import { validateModel } from '../onnx/validate';
import { calibrate, collectSamples, inputMetadata, type CalibrationResult } from './calibrate';
import { checkShapeOverrides } from '../compare/input-shapes';
import { dynamicQOperatorRewriters } from './dynamic-qoperator';
import { dynamicQdqRewriters, weightOnlyInt8Rewriters } from './dequantize-rewriters';
import { foldBatchNorms } from './fold-batchnorm';
import { foldConvAffines } from './fold-affine';
import { GraphScope } from './graph-scope';
import { modelSource } from './model-source';
import { weightOnlyInt4Rewriters } from './matmul-nbits';
import { minimumIrVersion, requiredOpset } from './opset-requirements';
import { upgradeOpset } from './opset-upgrade';
import { resolveOptions, type QuantizeOptions, type ResolvedOptions } from './options';
import type { QuantizeReport } from './report';
import { RewriteContext } from './rewrite-context';
import type { NodeRewriter } from './rewriter';
import { outcome, selectNodes, type NodeOutcome } from './selection';
import { settleStaticRanges, staticRewriters, staticTensorsToCalibrate } from './static-qdq';
import { recurrentRewriters } from './recurrent';
import { gptqStatistics } from './gptq/collect-hessians';
import { gptqSummary } from './gptq/summary';
import { quantizeAuto } from './auto/auto';
import { inferElemTypes } from '../convert/elem-types';
import { hardSwishPart, rewriteHardSwishPatterns } from './static/hard-swish';
import { MEASURED_KERNEL_SPEEDS, slowerKernelReason } from './kernel-speed';
import { verifyQuantized } from './verification';
import { summaryLine } from './summary';
import { smoothActivations, type SmoothQuantReport } from './smooth/smooth-quant';

export interface QuantizeResult {
  model: Model;
  report: QuantizeReport;
}

function rewritersFor(o: ResolvedOptions): Record<string, NodeRewriter> {
  if (o.mode === 'dynamic') return { ...(o.format === 'qdq' ? dynamicQdqRewriters : dynamicQOperatorRewriters), ...recurrentRewriters };
  if (o.mode === 'static') return staticRewriters;
  return o.bits === 4 ? weightOnlyInt4Rewriters : weightOnlyInt8Rewriters;
}

function formatOf(o: ResolvedOptions): QuantizeReport['format'] {
  if (o.mode === 'weight-only') return o.bits === 4 ? 'int4' : 'int8';
  return o.format;
}

/** Quantizes a copy of `source` as `options` say; see QuantizeOptions for the modes and their defaults. */
export async function quantize(source: Model, options: QuantizeOptions): Promise<QuantizeResult> {
  if (options.mode === 'auto') return quantizeAuto(source, options, quantize);
  const o = resolveOptions(options);
  // Generated inputs (calibration, verification) take these; a misspelt name fails before any work.
  checkShapeOverrides(inputMetadata(source), o);
  const model = source.clone();
  const scope = new GraphScope(model);
  const ctx = new RewriteContext(model, scope, o);
  const rewriters = rewritersFor(o);
  const warnings: string[] = [];
  const batchNormsFolded = o.foldBatchNorm !== false && o.opTypes.includes('Conv') ? foldBatchNorms(model, scope) : 0;
  // Static mode requantizes at every quantized op: a constant Mul/Add after a Conv is folded into it first.
  const affinesFolded = o.mode === 'static' && o.foldBatchNorm !== false && o.opTypes.includes('Conv') ? foldConvAffines(model, scope) : 0;
  const hardSwishesRewritten = o.mode === 'static' && o.opTypes.includes('Mul') ? rewriteHardSwishPatterns(model, scope) : 0;
  if (o.mode === 'static') ctx.elemTypes = inferElemTypes(model);

  const selection = selectNodes(model, o, (ref) => rewriters[ref.node.opType].check(ctx, ref));
  const { skipped } = selection;
  // Never slower by default: op types whose quantized kernel was measured slower than float stay float.
  const speeds = o.kernelSpeeds ?? MEASURED_KERNEL_SPEEDS;
  const candidates = selection.candidates.filter((ref) => {
    const slower = (o.mode === 'static' ? hardSwishPart(model, ref.node) : undefined)
      ?? (o.force ? undefined : slowerKernelReason(speeds, o.mode, ref.node.opType));
    if (slower) skipped.push(outcome(ref, slower));
    return !slower;
  });

  let calibration: CalibrationResult | undefined;
  let smoothQuant: SmoothQuantReport | null = null;
  if (o.mode === 'static' && candidates.length > 0) {
    // SmoothQuant edits the float weights first; calibration then measures the smoothed activations.
    const collected = o.smoothQuant === undefined ? undefined : await collectSamples(o, inputMetadata(model));
    if (collected) smoothQuant = await smoothActivations(model, scope, candidates, collected.samples, o, o.smoothQuant as number);
    calibration = await calibrate(model, staticTensorsToCalibrate(ctx, candidates), o, collected);
    if (calibration.generated) {
      warnings.push('static ranges come from generated random inputs, not real data: accuracy on real inputs may be much worse; pass calibration samples');
    }
    ctx.ranges = calibration.ranges;
    ctx.missingRanges = calibration.missing;
    ctx.calibrated = true;
    settleStaticRanges(ctx, candidates);
  }

  const gptq = o.algorithm === 'gptq' && candidates.length > 0 ? await gptqStatistics(model, scope, candidates, o) : undefined;
  if (gptq) {
    ctx.hessians = gptq.hessians;
    warnings.push(...gptq.warnings);
  }

  const before = model.opsetVersion('') ?? 1;
  const need = requiredOpset(o);
  const upgrade = candidates.length > 0 && need.version > before
    ? upgradeOpset(model, scope, need.version)
    : { from: before, to: before, converted: {} };
  const irNeeded = minimumIrVersion(upgrade.to);
  if (model.irVersion < irNeeded) model.proto.irVersion = BigInt(irNeeded);

  const quantized: NodeOutcome[] = [];
  for (const ref of candidates) {
    if (!ref.graph.node.includes(ref.node)) {
      skipped.push(outcome(ref, 'replaced by the opset upgrade (e.g. Softmax in its flatten form); left in float'));
      continue;
    }
    const reason = rewriters[ref.node.opType].check(ctx, ref);
    if (reason) skipped.push(outcome(ref, reason));
    else quantized.push(outcome(ref, rewriters[ref.node.opType].rewrite(ctx, ref)));
  }
  scope.finish();

  const domainsAdded: string[] = [];
  for (const domain of ctx.domains) {
    if (model.opsetVersion(domain) === undefined) {
      model.setOpset(domain, 1);
      domainsAdded.push(domain);
    }
  }
  validateModel(model);

  const original = modelSource(source, 'original');
  const result = modelSource(model, 'quantized');
  const [beforeBytes, afterBytes] = [original.bytes, result.bytes];
  let verification: CompareReport | null = null;
  let verificationSkipped: string | null = null;
  try {
    if (o.verify !== false) {
      const samples = calibration?.samples ?? (o.calibration !== undefined ? (await collectSamples(o, inputMetadata(source))).samples : undefined);
      const checked = await verifyQuantized(source, original.source, result.source, o, samples);
      verification = checked.report;
      verificationSkipped = checked.skipped;
    }
    if (verification) {
      if (calibration?.generated) verification.inputsGenerated = true;
      warnings.push(...accuracyWarnings(verification, o.mode === 'static'
        ? 'calibrate on real samples (--calibration), try --method percentile or entropy, or keep the layers feeding it in float (--exclude)'
        : 'keep the layers feeding it in float (--exclude), or try --mode static with real --calibration'));
      const ratio = verification.latencyRatio;
      if (ratio !== null && ratio > 1.2 && o.mode === 'dynamic' && quantized.some((q) => q.opType === 'Conv')) {
        warnings.push(`the result runs ${ratio.toFixed(1)}x slower: onnxruntime's dynamic ConvInteger is slower than its float Conv; `
          + 'for conv nets use --mode static, or keep Conv in float with --op-types MatMul,Gemm');
      }
    }
  } finally {
    original.dispose();
    result.dispose();
  }
  const report: QuantizeReport = {
    mode: o.mode,
    format: formatOf(o),
    quantized,
    skipped,
    opset: { ...upgrade, raised: upgrade.to > upgrade.from, reason: upgrade.to > upgrade.from ? need.reason : null },
    batchNormsFolded,
    affinesFolded,
    domainsAdded,
    size: { beforeBytes, afterBytes, ratio: afterBytes / beforeBytes },
    calibration: calibration ? calibration.summary : null,
    gptq: gptq ? gptqSummary(ctx.gptqLayers, gptq) : null,
    verification,
    hardSwishesRewritten,
    smoothQuant,
    verificationSkipped,
    warnings,
    summary: '',
  };
  report.summary = summaryLine(report);
  return { model, report };
}
