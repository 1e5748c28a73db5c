// Never slower by default: op types whose quantized kernel the speed table says is slower stay float
// (with the reason in the report) unless forced, and a verification that cannot run on the original
// is reported as skipped rather than failing the run. The tables here are injected, so nothing
// depends on this machine's timing.
import { buildConvNet, GraphBuilder } from '../../lib/onnx';
import { quantize } from '../../lib/quantize';
import type { KernelSpeedTable } from '../../lib/quantize/kernel-speed';
import { summaryLine } from '../../lib/quantize/summary';
import type { QuantizeReport } from '../../lib/quantize/report';
import { floats, opCounts } from './helpers';

const table = (entries: KernelSpeedTable['entries']): KernelSpeedTable => ({ machine: 'test CPU', onnxruntime: 'test', entries });
const entry = (mode: 'static' | 'dynamic', opType: string, floatMs: number, quantizedMs: number) => ({ mode, opType, kernel: `${opType} kernel`, floatMs, quantizedMs });
const convNet = () => buildConvNet({ channels: 3, size: 12, classes: 5 });
const quick = { latencyRuns: 0, verifySamples: 2 } as const;

describe('kernel speed table', () => {
  const slowConvInteger = table([entry('dynamic', 'Conv', 1, 5), entry('dynamic', 'Gemm', 1, 0.5), entry('dynamic', 'MatMul', 1, 0.5)]);

  it('dynamic mode keeps Conv in float where ConvInteger is slower, says why, and quantizes the rest', async () => {
    const { model, report } = await quantize(convNet(), { mode: 'dynamic', kernelSpeeds: slowConvInteger, ...quick });
    const ops = opCounts(model);
    expect(ops.ConvInteger).toBeUndefined();
    expect(ops.Conv).toBe(2);
    expect(report.quantized.map((q) => q.opType)).toEqual(['Gemm']);
    const kept = report.skipped.filter((s) => s.opType === 'Conv');
    expect(kept).toHaveLength(2);
    for (const s of kept) expect(s.detail).toBe("kept in float: onnxruntime's dynamic quantized Conv (Conv kernel) measured 5.00x the float time (test CPU); --force quantizes it anyway");
    expect(report.summary).toMatch(/^dynamic quantization \(qoperator\): 1 node\(s\) quantized \(Gemm 1\), 2 skipped \(2 kept in float where the quantized kernel is slower: Conv 2\)/);
  });

  it('--force quantizes them anyway', async () => {
    const { model, report } = await quantize(convNet(), { mode: 'dynamic', kernelSpeeds: slowConvInteger, force: true, ...quick });
    expect(opCounts(model).ConvInteger).toBe(2);
    expect(report.skipped).toEqual([]);
  });

  it('static mode: a slower op type stays float while the faster ones around it are quantized', async () => {
    const speeds = table([entry('static', 'GlobalAveragePool', 1, 2), entry('static', 'Conv', 10, 1)]);
    const source = convNet();
    const { model, report } = await quantize(source, { mode: 'static', kernelSpeeds: speeds, randomSamples: 3, ...quick });
    // The pool stays float; the Flatten after it then has no int8 to carry on.
    expect(report.skipped.map((s) => [s.opType, s.detail.slice(0, 40)])).toEqual([
      ['GlobalAveragePool', "kept in float: onnxruntime's static quan"],
      ['Flatten', 'kept in float: its input is not quantize'],
    ]);
    expect(report.quantized.filter((q) => q.opType === 'Conv')).toHaveLength(2);
    expect(opCounts(model).GlobalAveragePool).toBe(opCounts(source).GlobalAveragePool);
  });

  it('an op type the table does not list, or lists as faster, is quantized', async () => {
    const speeds = table([entry('dynamic', 'Conv', 2, 1)]);
    const { report } = await quantize(convNet(), { mode: 'dynamic', kernelSpeeds: speeds, ...quick });
    expect(report.quantized.map((q) => q.opType).sort()).toEqual(['Conv', 'Conv', 'Gemm']);
  });
});

describe('the summary line', () => {
  const base = {
    mode: 'static', format: 'qdq', quantized: [{ node: 'c', opType: 'Conv', graph: 'main', detail: '' }], skipped: [],
    verificationSkipped: null,
  } as unknown as Omit<QuantizeReport, 'summary'>;
  const withRatio = (latencyRatio: number) => ({ ...base, verification: { latencyRatio } } as unknown as Omit<QuantizeReport, 'summary'>);

  it('says SLOWER when the result took longer than the original in the verification run', () => {
    expect(summaryLine(withRatio(1.8))).toBe('static quantization (qdq): 1 node(s) quantized (Conv 1), 0 skipped; SLOWER than the original: 0.56x its speed in onnxruntime');
  });

  it('gives the speed-up otherwise', () => {
    expect(summaryLine(withRatio(0.5))).toBe('static quantization (qdq): 1 node(s) quantized (Conv 1), 0 skipped; 2.00x faster than the original in onnxruntime');
  });
});

describe('verification that cannot run', () => {
  /** Gather rows of a 4-row table by an int64 input, then MatMul: generated indices (0..15) fall outside the table. */
  function gatherModel() {
    const g = new GraphBuilder();
    g.input('index', 'int64', [3]);
    const rows = g.node('Gather', [g.initializer('table', floats(4 * 8, 1), [4, 8]), 'index']);
    g.output(g.node('MatMul', [rows, g.initializer('w', floats(8 * 6, 2), [8, 6])], ['y']), 'float32', [3, 6]);
    return g.build();
  }

  it('keeps the result and says verification was skipped, why, and which options give working inputs', async () => {
    const { model, report } = await quantize(gatherModel(), { mode: 'dynamic', ...quick });
    expect(opCounts(model).MatMulInteger).toBe(1);
    expect(report.verification).toBeNull();
    expect(report.verificationSkipped).toMatch(/^verification skipped: the original model fails on generated inputs \(.*indices element out of data bounds.*\); give inputs it accepts with --calibration DIR, or fix generated ones with --value NAME=V/);
    expect(report.summary).toMatch(/; not verified \(the original fails on its inputs\)$/);
  });

  it('verifies once --value gives inputs the original accepts', async () => {
    const { report } = await quantize(gatherModel(), { mode: 'dynamic', values: { index: 1 }, ...quick });
    expect(report.verificationSkipped).toBeNull();
    expect(report.verification?.outputs[0].cosine).toBeGreaterThan(0.999);
  });

  it('static calibration on generated inputs the model rejects fails with the same fix named', async () => {
    await expect(quantize(gatherModel(), { mode: 'static', randomSamples: 2, ...quick }))
      .rejects.toThrow(/the model fails on generated calibration inputs .*--calibration DIR.*--value NAME=V/);
  });
});
