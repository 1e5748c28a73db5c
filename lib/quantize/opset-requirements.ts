// The lowest default-domain opset the ops a run adds need, and why.
import type { ResolvedOptions } from './options';

export interface OpsetNeed {
  version: number;
  reason: string;
}

/** IR version each opset needs at least (ONNX versioning table). */
export function minimumIrVersion(opset: number): number {
  if (opset >= 21) return 10;
  if (opset >= 19) return 9;
  if (opset >= 15) return 8;
  if (opset >= 12) return 7;
  if (opset >= 11) return 6;
  if (opset >= 10) return 5;
  return 3;
}

export function requiredOpset(o: ResolvedOptions): OpsetNeed {
  const perChannelDq = { version: 13, reason: 'per-channel DequantizeLinear (axis) needs opset 13' };
  switch (o.mode) {
    case 'dynamic':
      if (o.perChannel && (o.format === 'qdq' || o.opTypes.includes('Gather'))) return perChannelDq;
      return { version: 11, reason: 'DynamicQuantizeLinear needs opset 11' };
    case 'static':
      return o.perChannel ? perChannelDq : { version: 10, reason: 'QuantizeLinear/DequantizeLinear need opset 10' };
    case 'weight-only':
      if (o.bits === 4) return { version: 1, reason: 'MatMulNBits is a com.microsoft op' };
      return o.perChannel ? perChannelDq : { version: 10, reason: 'DequantizeLinear needs opset 10' };
  }
}
