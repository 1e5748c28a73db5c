// The native engine's op table: every op it runs, by domain and type.
import { ENGINE_DOMAIN } from '../ir';
import { CONV_OPS, ENGINE_CONV_OPS } from './conv-ops';
import { ELEMENTWISE_OPS } from './elementwise';
import { ENGINE_OPS, NN_OPS } from './nn';
import { PAD_OPS } from './pad';
import { ENGINE_QUANT_OPS, QUANT_OPS } from './quant';
import { RESAMPLE_OPS } from './resample';
import { SHAPE_OPS } from './shape-ops';
import type { OpDef } from './types';

const DEFAULT_DOMAIN: Record<string, OpDef> = { ...ELEMENTWISE_OPS, ...SHAPE_OPS, ...NN_OPS, ...QUANT_OPS, ...CONV_OPS, ...RESAMPLE_OPS, ...PAD_OPS };
const ENGINE: Record<string, OpDef> = { ...ENGINE_OPS, ...ENGINE_CONV_OPS, ...ENGINE_QUANT_OPS };

export function opDef(domain: string, op: string): OpDef | undefined {
  if (domain === '') return Object.prototype.hasOwnProperty.call(DEFAULT_DOMAIN, op) ? DEFAULT_DOMAIN[op] : undefined;
  if (domain === ENGINE_DOMAIN) return Object.prototype.hasOwnProperty.call(ENGINE, op) ? ENGINE[op] : undefined;
  return undefined;
}

/** Default-domain op types the native engine runs (for reports and docs). */
export function supportedOpTypes(): string[] {
  return Object.keys(DEFAULT_DOMAIN).sort();
}
