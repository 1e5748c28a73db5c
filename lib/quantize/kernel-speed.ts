// Whether onnxruntime's quantized kernel for an op type beats its float kernel: measured by
// `npm run bench -- quantize --write-kernel-table` (bench/quantize-kernels.ts) into
// kernel-speed-table.json. A quantize run keeps an op type in float where its quantized form was
// measured slower, unless `force` is set, and says so in the report.
import measured from './kernel-speed-table.json';

export interface KernelSpeedEntry {
  /** 'static' (QDQ, int8 in and out) or 'dynamic' (float in and out, activations quantized at run time). */
  mode: 'static' | 'dynamic';
  opType: string;
  /** What onnxruntime ran for the quantized form (e.g. "QLinearConv", "DQ + HardSigmoid + Q"). */
  kernel: string;
  floatMs: number;
  quantizedMs: number;
}

export interface KernelSpeedTable {
  /** The CPU and onnxruntime version the figures come from. */
  machine: string;
  onnxruntime: string;
  entries: KernelSpeedEntry[];
}

export const MEASURED_KERNEL_SPEEDS: KernelSpeedTable = measured as KernelSpeedTable;

/** Why an op type stays float in `mode` by this table; undefined when its quantized kernel is faster or unmeasured. */
export function slowerKernelReason(table: KernelSpeedTable, mode: string, opType: string): string | undefined {
  const entry = table.entries.find((e) => e.mode === mode && e.opType === opType);
  if (!entry || entry.quantizedMs <= entry.floatMs) return undefined;
  return `kept in float: onnxruntime's ${mode} quantized ${opType} (${entry.kernel}) measured ${(entry.quantizedMs / entry.floatMs).toFixed(2)}x `
    + `the float time (${table.machine}); --force quantizes it anyway`;
}
