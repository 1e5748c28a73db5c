// The contract every per-op rewrite follows.
import type { NodeRef } from '../onnx/model';
import type { RewriteContext } from './rewrite-context';

export interface NodeRewriter {
  /** Why this node cannot be quantized this way; undefined when it can. */
  check(ctx: RewriteContext, ref: NodeRef): string | undefined;
  /** Rewrites the node in its graph; returns what was done, for the report. */
  rewrite(ctx: RewriteContext, ref: NodeRef): string;
}
