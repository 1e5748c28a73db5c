// What a quantize run reports: per node what was done or why not, opset changes, sizes, and the
// accuracy and speed of the result against the original (compareModels).
import type { CompareReport } from '../compare/compare';
import type { CalibrationMethod, QuantFormat, QuantizeMode } from './options';
import type { OpsetUpgrade } from './opset-upgrade';
import type { NodeOutcome } from './selection';
import type { GptqReport } from './gptq/summary';
import type { AutoReport } from './auto/auto-report';
import type { SmoothQuantReport } from './smooth/smooth-quant';

export interface CalibrationSummary {
  method: CalibrationMethod;
  samples: number;
  /** True when no data was given and the ranges come from generated random inputs. */
  generated: boolean;
  /** Activation tensors whose ranges were measured. */
  tensors: number;
}

export interface QuantizeReport {
  /** 'auto': the recipe chosen is in `auto` (the format and nodes are that recipe's). */
  mode: QuantizeMode | 'auto';
  /** dynamic/static: qoperator or qdq; weight-only: 'int4' (MatMulNBits) or 'int8' (DequantizeLinear); auto returning float: 'float'. */
  format: QuantFormat | 'int4' | 'int8' | 'float';
  quantized: NodeOutcome[];
  skipped: NodeOutcome[];
  /** The default-domain opset before and after; `converted` lists the nodes rewritten to raise it. */
  opset: OpsetUpgrade & { raised: boolean; reason: string | null };
  /** BatchNormalization nodes folded into the Conv in front of them before quantizing. */
  batchNormsFolded: number;
  /** static: Mul/Add nodes by a constant (scalar or per channel) after a Conv, folded into its weights and bias. */
  affinesFolded?: number;
  /** Operator-set domains the result newly imports (e.g. com.microsoft). */
  domainsAdded: string[];
  size: { beforeBytes: number; afterBytes: number; ratio: number };
  calibration: CalibrationSummary | null;
  /** weight-only --algorithm gptq: per layer and in total, the errors of round-to-nearest and of GPTQ. */
  gptq?: GptqReport | null;
  /** Figures against the original in onnxruntime; null with verify: false. */
  verification: CompareReport | null;
  /** Exporter-style x * Clip(x + 3, 0, 6) / 6 rewritten as Mul(x, HardSigmoid(x)) before static quantization. */
  hardSwishesRewritten: number;
  /** static --smooth-quant: the activations smoothed (and the linear layers whose weights took the scales), and those not; null when off. */
  smoothQuant?: SmoothQuantReport | null;
  /** Why verification did not run although asked for (the original fails on the inputs); null otherwise. */
  verificationSkipped: string | null;
  warnings: string[];
  /** mode 'auto': every candidate tried and the choice. */
  auto?: AutoReport;
  /** One line: what was quantized and how the result compares, slower-than-float included. */
  summary: string;
}
