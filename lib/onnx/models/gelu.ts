// Exact GELU in the exporter's node order: Div(x, sqrt 2), Erf, Add 1, Mul x, Mul 0.5. Shared by the
// clean-form and the exporter-form builders, which differ only in how they write nodes and constants.

/** Writes one node and returns its output. */
export type WriteNode = (op: string, inputs: readonly string[]) => string;

/** 0.5 * x * (1 + erf(x / sqrt(2))); `scalar` supplies each float constant just before its use. */
export function erfGelu(node: WriteNode, scalar: (value: number) => string, x: string): string {
  const erf = node('Erf', [node('Div', [x, scalar(Math.SQRT2)])]);
  return node('Mul', [node('Mul', [x, node('Add', [erf, scalar(1)])]), scalar(0.5)]);
}
