// onnxforge quantize MODEL -o OUT --mode dynamic|static|weight-only: parses options, runs the pass,
// prints its report and writes the result.
import { Command, Option } from 'commander';
import { quantizeFile, type QuantizeFileOptions } from '../../quantize/quantize-file';
import type { QuantizeReport } from '../../quantize/report';
import type { GptqReport } from '../../quantize/gptq/summary';
import type { AutoReport } from '../../quantize/auto/auto-report';
import type { SmoothQuantReport } from '../../quantize/smooth/smooth-quant';
import { UsageError } from '../errors';
import { collectNumberPairs, collectShapes, nonNegativeInt, positiveInt } from '../options';
import { againstOriginal } from '../compare-tables';
import { evalDataFrom } from '../compare-options';
import { formatBytes } from '../../format-bytes';
import { printJson, table } from '../output';
import { createProgress, type Progress } from '../progress';

const list = (value: string): string[] => value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);

function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`expected a number >= 0, got "${value}"`);
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`expected a positive number, got "${value}"`);
  return n;
}

/** --smooth-quant's α: a number (its range is checked by the pass, with the other options). */
function smoothQuantAlpha(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--smooth-quant takes α, a number in (0, 1), got "${value}"`);
  return n;
}

function smoothQuantLines(r: SmoothQuantReport): string[] {
  const lines = [`SmoothQuant α=${r.alpha}: ${r.smoothed.length} activation(s) smoothed, ${r.notSmoothed.length} linear input(s) left as they were`];
  if (r.smoothed.length) {
    lines.push(table(['activation', 'took 1/s', 'layers (took s)', 'channels', 's min..max', 'max/median channel before -> after'], r.smoothed.map((l) => [
      l.activation, `${l.absorber} (${l.absorberOp})`, l.layers.join(', '), String(l.channels),
      `${l.scale.min.toPrecision(3)}..${l.scale.max.toPrecision(3)}`, `${l.outlierRatio.before.toFixed(1)} -> ${l.outlierRatio.after.toFixed(1)}`])));
  }
  return lines;
}

function formatReport(r: QuantizeReport, output: string): string {
  const lines = [r.summary];
  if (r.skipped.length) {
    lines.push('', table(['skipped node', 'op', 'graph', 'reason'], r.skipped.map((s) => [s.node, s.opType, s.graph, s.detail])));
  }
  lines.push('');
  if (r.opset.raised) {
    const converted = Object.entries(r.opset.converted).map(([op, n]) => `${op} ${n}`).join(', ');
    lines.push(`opset raised ${r.opset.from} -> ${r.opset.to}: ${r.opset.reason}${converted ? `; rewrote ${converted}` : ''}`);
  } else {
    lines.push(`opset ${r.opset.to} kept`);
  }
  if (r.batchNormsFolded) lines.push(`folded ${r.batchNormsFolded} BatchNormalization node(s) into the Conv before them`);
  if (r.affinesFolded) lines.push(`folded ${r.affinesFolded} Mul/Add-by-constant node(s) into the Conv before them`);
  if (r.hardSwishesRewritten) lines.push(`rewrote ${r.hardSwishesRewritten} x * Clip(x + 3, 0, 6) / 6 hard-swish(es) as x * HardSigmoid(x)`);
  if (r.domainsAdded.length) lines.push(`imports added: ${r.domainsAdded.join(', ')}`);
  lines.push(`size: ${formatBytes(r.size.beforeBytes)} -> ${formatBytes(r.size.afterBytes)} (${r.size.ratio.toFixed(3)}x)`);
  if (r.calibration) {
    const c = r.calibration;
    lines.push(`calibration: ${c.method}, ${c.samples} sample(s)${c.generated ? ' of generated random data' : ''}, ${c.tensors} range(s)`);
  }
  if (r.smoothQuant) lines.push('', ...smoothQuantLines(r.smoothQuant));
  if (r.gptq) lines.push('', ...gptqLines(r.gptq));
  if (r.auto) lines.push('', ...autoLines(r.auto));
  if (r.verification) lines.push('', ...againstOriginal(r.verification, 'quantized'));
  if (r.verificationSkipped) lines.push('', r.verificationSkipped);
  lines.push('', `wrote ${output}`);
  return lines.join('\n');
}

function autoLines(a: AutoReport): string[] {
  const budget = [a.budget.minCosine !== null ? `cosine >= ${a.budget.minCosine}` : '', a.budget.maxAccuracyDrop !== null ? `top-1 drop <= ${a.budget.maxAccuracyDrop}` : ''].filter(Boolean).join(', ');
  const fixed = (x: number | null, d: number) => (x === null ? '-' : x.toFixed(d));
  const lines = [`auto (goal ${a.goal}${a.goal === 'speed' ? `, faster means >= ${a.minSpeedup}x` : ''}, budget ${budget}, ${a.samples} ${a.generated ? 'generated' : 'given'} sample(s), seed ${a.seed}):`];
  if (a.sensitivity.length) lines.push(`most sensitive layers: ${a.sensitivity.slice(0, 3).map((s) => `${s.node} (cosine ${s.cosine.toFixed(5)})`).join(', ')}`);
  lines.push(table(['recipe', 'cosine', 'top-1', 'size', 'median ms', 'speed-up', 'in budget'], [
    ['float', '1', a.float.accuracy === null ? '-' : a.float.accuracy.toFixed(4), formatBytes(a.float.sizeBytes), a.float.latencyMs.toFixed(3), '1.00', '-'],
    ...a.candidates.map((c) => [c.recipe, fixed(c.cosine, 5), fixed(c.accuracy, 4), c.error ? '-' : formatBytes(c.sizeBytes), fixed(c.latencyMs, 3), fixed(c.speedup, 2), c.error ? `failed: ${c.error}` : c.meetsBudget ? 'yes' : 'no']),
  ]));
  lines.push(`chosen: ${a.chosen} (${a.reason})`);
  return lines;
}

function gptqLines(g: GptqReport): string[] {
  const e = (x: number) => x.toExponential(3);
  return [
    `GPTQ statistics: ${g.samples} sample(s)${g.generated ? ' of generated random data' : ''}${g.fallbackLayers ? `, ${g.fallbackLayers} layer input(s) never reached (round-to-nearest there)` : ''}`,
    table(['layer', 'K x N', 'RTN weight mse', 'GPTQ weight mse', 'RTN output mse', 'GPTQ output mse'],
      [...g.layers.map((l) => [l.node, `${l.k} x ${l.n}`, e(l.rtn.weight), e(l.gptq.weight), e(l.rtn.output), e(l.gptq.output)]),
        ['total', '', e(g.total.rtn.weight), e(g.total.gptq.weight), e(g.total.rtn.output), e(g.total.gptq.output)]]),
    `GPTQ layer-output error: ${g.outputErrorRatio.toFixed(3)}x round-to-nearest's on the calibration inputs`,
  ];
}

/** One bar per step ("calibrate", "verify"), drawn only on a terminal. */
function stepProgress(): { update: (step: string, done: number, total: number) => void; finish: () => void } {
  let current: { step: string; bar: Progress } | undefined;
  return {
    update(step, done, total) {
      if (current?.step !== step) {
        current?.bar.finish();
        current = { step, bar: createProgress(step) };
      }
      current.bar.update(done, total);
    },
    finish: () => current?.bar.finish(),
  };
}

export function registerQuantize(program: Command): void {
  program
    .command('quantize')
    .description('quantize a model to int8/int4: dynamic, static (calibrated QDQ) or weight-only; reports what changed and how the result compares')
    .argument('<model>', 'model to quantize (.onnx)')
    .requiredOption('-o, --output <file>', 'where to write the quantized model')
    .addOption(new Option('--mode <mode>', 'dynamic: int8 weights, activations quantized at run time; static: int8 activations with calibrated ranges (QDQ); weight-only: int4/int8 weights, float activations')
      .choices(['dynamic', 'static', 'weight-only', 'auto']).makeOptionMandatory())
    .option('--max-accuracy-drop <x>', 'auto: most top-1 accuracy (0..1) the result may lose on --eval/--eval-labels (default 0.01 with labels)', nonNegativeNumber)
    .option('--min-cosine <x>', 'auto: lowest output cosine against float (default 0.99 without labels)', Number)
    .addOption(new Option('--goal <goal>', 'auto: speed (fastest within budget, never slower than float) or size (smallest within budget)').choices(['speed', 'size']).default('speed'))
    .option('--min-speedup <x>', 'auto, goal speed: how much faster than float a candidate must be to count as faster (default 1.05, a guard against timing noise)', Number)
    .option('--auto-runs <n>', 'auto: timed onnxruntime runs per candidate', positiveInt, 5)
    .option('--no-sensitivity', 'auto: skip the per-layer sensitivity scan and the recipes that keep sensitive layers float')
    .addOption(new Option('--format <format>', 'dynamic mode: qoperator (default) writes DynamicQuantizeLinear + MatMulInteger/ConvInteger, which onnxruntime always runs as its fused int8 kernels (DynamicQuantizeMatMul, MatMulIntegerToFloat): the dependable fast path on x86 CPUs; qdq writes DequantizeLinear in front of the float ops, portable to other runtimes, but onnxruntime may fold a 2-D MatMul + Add into a float Gemm and lose the int8 speed-up')
      .choices(['qoperator', 'qdq']))
    .option('--per-channel', 'one weight scale per output channel (the default: far more accurate on conv nets with folded batch norm)')
    .option('--per-tensor', 'one weight scale per tensor instead')
    .addOption(new Option('--weight-type <type>', 'dynamic/static weight type').choices(['int8', 'uint8']))
    .addOption(new Option('--activation-type <type>', 'static activation type').choices(['uint8', 'int8']))
    .option('--symmetric-activations', 'static: activation ranges centred on zero')
    .option('--asymmetric-weights', 'dynamic/static: weights with their own zero point (default symmetric)')
    .option('--reduce-range', '7-bit weights, for CPUs without VNNI where u8s8 products can saturate')
    .option('--calibration <dir>', 'samples: one folder per sample with <input>.npy / <input>.npz / input_<i>.pb, or one .npz per sample (static: ranges; other modes: verification inputs)')
    .addOption(new Option('--method <method>', 'static: how ranges are chosen').choices(['minmax', 'percentile', 'entropy']).default('minmax'))
    .option('--percentile <p>', 'static --method percentile: percentile of |x| kept', positiveNumber, 99.999)
    .option('--bins <n>', 'static: histogram bins for percentile/entropy', positiveInt, 2048)
    // compare, convert and prune call the same sample folders --inputs; quantize accepts that spelling too.
    .addOption(new Option('--inputs <dir>').hideHelp())
    .addOption(new Option('--smooth-quant [alpha]', 'static: SmoothQuant before calibration: per input channel of the MatMul/Gemm layers after a LayerNorm (or a per-channel Mul/Add, or another linear layer), divide the activation by s = max|x|^α / max|w|^(1-α) there and multiply the weight rows by s (likewise between a Conv and the convs reading it): same float model, activation outliers moved into the weights; α in (0, 1), 0.5 when omitted')
      .preset('0.5').argParser(smoothQuantAlpha))
    .option('--calibration-batch <n>', 'static: samples per onnxruntime run during calibration', positiveInt, 8)
    .option('--calibration-samples <n>', 'static without --calibration: generated random samples (a warning is printed)', positiveInt, 16)
    .addOption(new Option('--bits <n>', 'weight-only: 4 (com.microsoft MatMulNBits) or 8 (DequantizeLinear + op)').choices(['4', '8']).default('4'))
    .addOption(new Option('--block-size <n>', 'weight-only 4-bit: block size along K').choices(['16', '32', '64', '128', '256']).default('32'))
    .option('--zero-points', 'weight-only 4-bit: asymmetric blocks with their own zero point')
    .option('--no-clip-search', 'weight-only 4-bit: plain min/max blocks instead of the least-squared-error clipping search')
    .addOption(new Option('--algorithm <name>', 'weight-only 4-bit: rtn (round to nearest per block, with the clipping search) or gptq (uses --calibration inputs of each layer to cancel rounding error; the report compares both)').choices(['rtn', 'gptq']).default('rtn'))
    .option('--act-order', 'gptq: quantize the most active input rows first')
    .addOption(new Option('--accuracy-level <n>', 'weight-only 4-bit: MatMulNBits accuracy_level (4 = int8 compute, fastest on CPU; 0 = float)').choices(['0', '1', '2', '3', '4']).default('4'))
    .option('--op-types <ops>', 'op types to quantize, comma separated (default MatMul,Gemm,Conv, and LSTM,GRU in dynamic mode; add Gather for embeddings)', list)
    .option('--nodes <names>', 'quantize only these nodes (names or first output names, comma separated)', list)
    .option('--exclude <names>', 'never quantize these nodes (comma separated)', list)
    .option('--no-fold-batchnorm', 'keep BatchNormalization nodes (and, static, Mul/Add by constants) instead of folding them into the Conv before them')
    .option('--keep-first', 'keep the first layer in float (quantizable nodes no other quantizable node feeds)')
    .option('--keep-last', 'keep the last layer in float (quantizable nodes that feed no other)')
    .option('--force', 'quantize op types even where onnxruntime\'s quantized kernel was measured slower than float (by default they stay float and the report says why)')
    .option('--no-verify', 'skip running the result against the original in onnxruntime')
    .option('--eval <dir>', 'labelled samples (same layout as --calibration): verification reports top-1 accuracy of both models; needs --eval-labels')
    .option('--eval-labels <file>', 'labels.npy: int64 class indices, one per output row of the --eval samples in name order')
    .option('--eval-output <name>', 'the output scored against the labels (default: the first with a class axis)')
    .option('--samples <n>', 'generated verification samples when there is no calibration data', positiveInt, 4)
    .option('--runs <n>', 'timed runs per model for the latency figure (0 skips)', nonNegativeInt, 10)
    .option('--dim <name=value>', 'value of a symbolic input dim for generated inputs (repeatable)', collectNumberPairs, {})
    .option('--shape <input=d1,d2,...>', 'whole shape of a generated input, unnamed dims included (repeatable)', collectShapes, {})
    .option('--value <name=value>', 'fill a generated input with a constant, e.g. sr=16000 (repeatable)', collectNumberPairs, {})
    .option('--seed <n>', 'seed for generated inputs', nonNegativeInt, 0)
    .option('--threads <n>', 'onnxruntime intra-op threads for calibration and verification', positiveInt)
    .option('--external-data', 'write weights to an external data file next to the model')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, opts) => {
      if (opts.perChannel && opts.perTensor) throw new UsageError('--per-channel and --per-tensor contradict each other');
      if (opts.calibration !== undefined && opts.inputs !== undefined) throw new UsageError('--inputs is another name for --calibration: give one');
      const progress = stepProgress();
      const options: QuantizeFileOptions = {
        mode: opts.mode,
        format: opts.format,
        perChannel: opts.perChannel ? true : opts.perTensor ? false : undefined,
        weightType: opts.weightType,
        activationType: opts.activationType,
        symmetricActivations: opts.symmetricActivations === true,
        symmetricWeights: opts.asymmetricWeights !== true,
        reduceRange: opts.reduceRange === true,
        calibration: opts.calibration ?? opts.inputs,
        method: opts.method,
        percentile: opts.percentile,
        bins: opts.bins,
        calibrationBatch: opts.calibrationBatch,
        randomSamples: opts.calibrationSamples,
        smoothQuant: opts.smoothQuant,
        bits: Number(opts.bits) as 4 | 8,
        blockSize: Number(opts.blockSize),
        symmetric: opts.zeroPoints !== true,
        accuracyLevel: Number(opts.accuracyLevel),
        clipSearch: opts.clipSearch,
        algorithm: opts.algorithm,
        actOrder: opts.actOrder === true,
        opTypes: opts.opTypes,
        nodes: opts.nodes,
        exclude: opts.exclude,
        foldBatchNorm: opts.foldBatchnorm,
        keepFirst: opts.keepFirst === true,
        keepLast: opts.keepLast === true,
        force: opts.force === true,
        verify: opts.verify,
        eval: evalDataFrom(opts),
        ...(opts.mode === 'auto' ? { maxAccuracyDrop: opts.maxAccuracyDrop, minCosine: opts.minCosine, goal: opts.goal, minSpeedup: opts.minSpeedup, autoRuns: opts.autoRuns, sensitivity: opts.sensitivity } : {}),
        verifySamples: opts.samples,
        latencyRuns: opts.runs,
        dims: opts.dim,
        shapes: opts.shape,
        values: opts.value,
        seed: opts.seed,
        engine: { threads: opts.threads },
        onProgress: progress.update,
        externalData: opts.externalData ? true : undefined,
      };
      let report;
      try {
        report = await quantizeFile(file, opts.output, options);
      } finally {
        progress.finish();
      }
      for (const warning of report.warnings) process.stderr.write(`onnxforge: warning: ${warning}\n`);
      if (opts.json) printJson(report);
      else process.stdout.write(formatReport(report, opts.output) + '\n');
    });
}
