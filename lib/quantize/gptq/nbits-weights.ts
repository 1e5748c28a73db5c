// The 4-bit blocks of one linear layer for MatMulNBits: round-to-nearest with the clipping search
// (algorithm 'rtn'), or GPTQ against the layer's calibration Hessian ('gptq'). A GPTQ run also
// quantizes with RTN to report both errors side by side.
import { dequantizeBlockwise, quantizeBlockwise, type BlockwiseOptions, type BlockwiseWeights } from '../blockwise';
import type { RewriteContext } from '../rewrite-context';
import type { LinearWeight } from '../weights';
import { quantizeGptq, reconstructionError } from './gptq';

export interface LayerError {
  /** Mean squared weight error. */
  weight: number;
  /** Mean squared error of the layer output X·W on the calibration inputs. */
  output: number;
}

export interface GptqLayerReport {
  node: string;
  k: number;
  n: number;
  rtn: LayerError;
  gptq: LayerError;
}

export function quantizeLinearBlocks(ctx: RewriteContext, node: string, activation: string, w: LinearWeight): { blocks: BlockwiseWeights; note: string } {
  const o = ctx.options;
  const options: BlockwiseOptions = { bits: 4, blockSize: o.blockSize, symmetric: o.symmetric, clipSearch: o.clipSearch };
  const rtn = quantizeBlockwise(w.values, w.k, w.n, options);
  if (o.algorithm !== 'gptq') return { blocks: rtn, note: o.clipSearch ? ' (clip search)' : '' };
  const hessian = ctx.hessians.get(activation);
  if (!hessian) return { blocks: rtn, note: ` (round-to-nearest: no GPTQ statistics for ${activation})` };
  const gptq = quantizeGptq(w.values, w.k, w.n, hessian, { ...options, actOrder: o.actOrder, damp: o.gptqDamp });
  ctx.gptqLayers.push({
    node, k: w.k, n: w.n,
    rtn: reconstructionError(w.values, dequantizeBlockwise(rtn, options), w.k, w.n, hessian),
    gptq: reconstructionError(w.values, dequantizeBlockwise(gptq, options), w.k, w.n, hessian),
  });
  return { blocks: gptq, note: ` (GPTQ${o.actOrder ? ', act-order' : ''})` };
}
