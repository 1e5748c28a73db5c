// The contract every per-op rewrite follows.
import type { NodeRef } from '../onnx/model';
import type { RewriteContext } from './rewrite-context';

export interface NodeRewriter {
  /** Why this node cannot be quantized this way; undefined when it can. */
  check(ctx: RewriteContext, ref: NodeRef): string | undefined;
  /** Rewrites the node in its graph; returns what was done, for the report. */
  rewrite(ctx: RewriteContext, ref: NodeRef): string;
}

/**
 * A rewriter for nodes whose parts (a constant weight, say) `find` locates: the node can be quantized
 * when they are found, and the rewrite starts from them. `find` returns why not, as a string, otherwise.
 */
export function rewriterOver<P extends object>(find: (ctx: RewriteContext, ref: NodeRef) => P | string,
  rewrite: (ctx: RewriteContext, ref: NodeRef, parts: P) => string): NodeRewriter {
  return {
    check: (ctx, ref) => {
      const parts = find(ctx, ref);
      return typeof parts === 'string' ? parts : undefined;
    },
    rewrite: (ctx, ref) => {
      const parts = find(ctx, ref);
      if (typeof parts === 'string') throw new Error(parts);
      return rewrite(ctx, ref, parts);
    },
  };
}
