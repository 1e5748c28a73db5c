// npm run bench -- quantize-auto [--quick] [--auto-runs=10] [--threads=N] [--out=DIR]:
// (1) what `quantize --mode auto` chooses for a MobileNetV3-like net, a ResNet-like net and a transformer
// encoder (default onnxruntime-node latency source, default budget: worst output cosine >= 0.99), with
// every candidate it tried; (2) GPTQ against round-to-nearest 4-bit on the encoder: output error against
// float32 on held-out inputs, and GPTQ's layer-output error ratio on the calibration inputs.
// Inputs are synthetic (images: uniform noise; encoder: correlated hidden states with a few strong
// channels, as real activations have). Writes quantize-auto.json and quantize-auto.md to bench/results/.
import type { Feeds } from '../lib/engine/tensor';
import { compareModels } from '../lib/compare/compare';
import { buildMobileNetV3Like, buildResNetLike, buildTransformerBlock, serializeModel, type Model } from '../lib/onnx';
import { createRandom } from '../lib/onnx/random';
import { quantize, type AutoReport } from '../lib/quantize';
import { benchFlags } from './flags';
import { machineName, writeResults } from './results';

interface AutoRow {
  model: string;
  chosen: string;
  reason: string;
  float: AutoReport['float'];
  candidates: AutoReport['candidates'];
  sensitiveLayers: string[];
  seconds: number;
}

interface GptqRow {
  algorithm: string;
  meanAbsError: number;
  cosine: number;
  /** GPTQ's summed layer-output mse over RTN's on the calibration inputs (GPTQ runs only). */
  layerOutputRatio: number | null;
  seconds: number;
}

function uniformFeeds(name: string, dims: number[], seed: number): Feeds {
  const next = createRandom(seed);
  const size = dims.reduce((a, b) => a * b, 1);
  return { [name]: { type: 'float32', dims, data: Float32Array.from({ length: size }, () => next() * 2 - 1) } };
}

/** Hidden states with a low-rank structure and every 13th channel 4x stronger. */
function hiddenStates(seq: number, hidden: number, seed: number): Feeds {
  const next = createRandom(seed);
  const rank = 8;
  const mixNext = createRandom(12345);
  const mix = Float32Array.from({ length: rank * hidden }, () => mixNext() * 2 - 1);
  const data = new Float32Array(seq * hidden);
  for (let r = 0; r < seq; r++) {
    const z = Array.from({ length: rank }, () => next() * 2 - 1);
    for (let c = 0; c < hidden; c++) {
      let v = 0.1 * (next() * 2 - 1);
      for (let j = 0; j < rank; j++) v += z[j] * mix[j * hidden + c];
      data[r * hidden + c] = v * (c % 13 === 0 ? 4 : 1);
    }
  }
  return { input: { type: 'float32', dims: [1, seq, hidden], data } };
}

async function autoRow(name: string, model: Model, calibration: Feeds[], autoRuns: number, threads: number | undefined): Promise<AutoRow> {
  process.stderr.write(`quantize-auto: ${name}\n`);
  const start = process.hrtime.bigint();
  const { report } = await quantize(model, { mode: 'auto', calibration, autoRuns, verify: false, engine: { threads },
    onProgress: (step, done, total) => process.stderr.write(`\r  ${step} ${done}/${total}   `) });
  process.stderr.write('\n');
  const a = report.auto as AutoReport;
  const kept = a.candidates.filter((c) => /sensitive/.test(c.recipe)).length;
  return {
    model: name, chosen: a.chosen, reason: a.reason, float: a.float, candidates: a.candidates,
    sensitiveLayers: a.sensitivity.slice(0, Math.max(1, kept)).map((s) => `${s.node} (${s.cosine.toFixed(5)})`),
    seconds: Number(process.hrtime.bigint() - start) / 1e9,
  };
}

async function gptqRows(encoder: Model, calibration: Feeds[], held: Feeds[]): Promise<GptqRow[]> {
  const rows: GptqRow[] = [];
  for (const [label, algorithm, actOrder] of [['rtn (clip search)', 'rtn', false], ['gptq', 'gptq', false], ['gptq act-order', 'gptq', true]] as const) {
    process.stderr.write(`quantize-auto: encoder int4 ${label}\n`);
    const start = process.hrtime.bigint();
    const { model, report } = await quantize(encoder, { mode: 'weight-only', bits: 4, blockSize: 32, algorithm, actOrder, calibration, verify: false });
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const compared = await compareModels(serializeModel(encoder), serializeModel(model), { samples: held, latencyRuns: 0 });
    const out = compared.outputs[0];
    rows.push({ algorithm: label, meanAbsError: out.meanAbsError, cosine: out.cosine as number, layerOutputRatio: report.gptq?.outputErrorRatio ?? null, seconds });
  }
  return rows;
}

function markdown(autoRows: AutoRow[], gptq: GptqRow[], machine: string, autoRuns: number, encoderName: string): string {
  const f = (x: number | null, d: number) => (x === null ? '-' : x.toFixed(d));
  const lines = [
    `# quantize-auto: what --mode auto chooses, and GPTQ vs round-to-nearest int4 (${machine})`,
    '',
    'The machine was shared with other jobs while this ran: latencies are noisy, and with them auto\'s choice among',
    'candidates of similar speed. Budget: the default worst output cosine >= 0.99 against float32 on the calibration samples.',
    `Latency: onnxruntime-node, median of ${autoRuns} runs after 2 warm-up runs, batch 1, measured by auto itself.`,
    '',
    '| model | chosen | why |',
    '| --- | --- | --- |',
    ...autoRows.map((r) => `| ${r.model} | ${r.chosen} | ${r.reason} |`),
    '',
  ];
  for (const r of autoRows) {
    lines.push(`## ${r.model} (auto took ${r.seconds.toFixed(1)} s; most sensitive: ${r.sensitiveLayers.join(', ')})`, '',
      '| recipe | cosine | size KiB | median ms | speed-up vs float | in budget |', '| --- | --- | --- | --- | --- | --- |',
      `| float32 | 1 | ${(r.float.sizeBytes / 1024).toFixed(1)} | ${r.float.latencyMs.toFixed(3)} | 1.00x | - |`,
      ...r.candidates.map((c) => `| ${c.recipe} | ${f(c.cosine, 5)} | ${c.error ? '-' : (c.sizeBytes / 1024).toFixed(1)} | ${f(c.latencyMs, 3)} | ${c.speedup === null ? '-' : `${c.speedup.toFixed(2)}x`} | ${c.error ? `failed: ${c.error}` : c.meetsBudget ? 'yes' : 'no'} |`),
      '');
  }
  const rtn = gptq[0];
  lines.push(`## GPTQ vs RTN, 4-bit blocks of 32, ${encoderName}`, '',
    'Output error against float32 on 8 held-out inputs; the layer-output ratio is GPTQ\'s summed per-layer output mse over',
    'round-to-nearest\'s on the calibration inputs (from the quantize report).', '',
    '| algorithm | mean abs error | vs RTN | worst cosine | layer-output mse vs RTN | quantize s |', '| --- | --- | --- | --- | --- | --- |',
    ...gptq.map((g) => `| ${g.algorithm} | ${g.meanAbsError.toExponential(3)} | ${(g.meanAbsError / rtn.meanAbsError).toFixed(3)}x | ${g.cosine.toFixed(5)} | ${g.layerOutputRatio === null ? '-' : `${g.layerOutputRatio.toFixed(3)}x`} | ${g.seconds.toFixed(1)} |`),
    '');
  return lines.join('\n');
}

export async function runQuantizeAutoBench(args: string[]): Promise<void> {
  const { flag, outDir, quick } = benchFlags(args);
  const threads = flag('threads') === undefined ? undefined : Number(flag('threads'));
  const autoRuns = Number(flag('auto-runs') ?? (quick ? 5 : 10));
  const machine = `${machineName()}, onnxruntime threads ${threads ?? 'default'}`;
  const images = (size: number) => Array.from({ length: quick ? 4 : 8 }, (_, i) => uniformFeeds('input', [1, 3, size, size], 10 + i));
  const enc = { seq: 64, hidden: 256, heads: 4, ffn: 1024, layers: quick ? 1 : 2 };
  const encoderName = `encoder ${enc.layers}x(h${enc.hidden}, ffn${enc.ffn}), seq ${enc.seq}`;
  const encoder = buildTransformerBlock({ ...enc, seed: 5 });
  const encoderCalibration = Array.from({ length: quick ? 8 : 16 }, (_, i) => hiddenStates(enc.seq, enc.hidden, 100 + i));
  const autoRows = [
    await autoRow('MobileNetV3-like (small, 128x128, 100 classes)', buildMobileNetV3Like({ size: 128, classes: 100, batch: 1 }), images(128), autoRuns, threads),
    await autoRow('ResNet-like (widths 32-256, 1 block/stage, 128x128)', buildResNetLike({ size: 128, widths: [32, 64, 128, 256], blocks: [1, 1, 1, 1], classes: 100, batch: 1 }), images(128), autoRuns, threads),
    await autoRow(encoderName, encoder, encoderCalibration, autoRuns, threads),
  ];
  const held = Array.from({ length: 8 }, (_, i) => hiddenStates(enc.seq, enc.hidden, 900 + i));
  const gptq = await gptqRows(encoder, encoderCalibration, held);
  const result = { suite: 'quantize-auto', machine, shared: true, autoRuns, auto: autoRows, gptq: { model: encoderName, rows: gptq } };
  writeResults(outDir, 'quantize-auto', result, markdown(autoRows, gptq, machine, autoRuns, encoderName));
}
