// Errors of the native engine's lowering: what it cannot run, and why.
export interface UnsupportedNode {
  opType: string;
  domain: string;
  node: string;
  reason: string;
}

/** The model holds ops (or uses of them) the native engine does not run; `nodes` lists them. */
export class NativeEngineUnsupportedError extends Error {
  constructor(readonly nodes: UnsupportedNode[]) {
    const types = [...new Set(nodes.map((n) => (n.domain ? `${n.domain}.${n.opType}` : n.opType)))];
    const shown = nodes.slice(0, 8).map((n) => `${n.node || '(unnamed)'} (${n.opType}: ${n.reason})`);
    super(`the native engine cannot run this model: unsupported ${types.join(', ')}; nodes: ${shown.join('; ')}` +
      (nodes.length > shown.length ? `; and ${nodes.length - shown.length} more` : ''));
    this.name = 'NativeEngineUnsupportedError';
  }
}

/** A node the lowering meets in a form it cannot handle for these input shapes. */
export class LoweringError extends Error {
  constructor(readonly node: string, readonly opType: string, reason: string) {
    super(`${opType} node "${node}": ${reason}`);
    this.name = 'LoweringError';
  }
}
