// Writes nodes the way torch.onnx.export spells them, so look-alike models meet an engine in the form
// real exports have: values named "/scope/Op_k_output_0", small values as Constant nodes (not
// initializers), and Unsqueeze axes as an attribute before opset 13 and as an input from 13 on.
import type { AttributeValue } from '../attributes';
import type { GraphBuilder } from '../builder';
import type { TensorData } from '../dtype';
import { makeTensor } from '../tensor';

/** The opsets the look-alike builders write (Range, which position ids need, arrives in 11). */
const EXPORT_OPSETS = { min: 11, max: 17 } as const;

/** What torch 1.13 writes around the graph: its IR version and producer. */
export const TORCH_EXPORT = { irVersion: 8, producerName: 'pytorch', producerVersion: '1.13.0' } as const;

export function checkExportOpset(opset: number): void {
  if (!Number.isInteger(opset) || opset < EXPORT_OPSETS.min || opset > EXPORT_OPSETS.max) {
    throw new RangeError(`opset ${opset} is outside ${EXPORT_OPSETS.min}..${EXPORT_OPSETS.max}, the opsets these look-alikes write`);
  }
}

export class ExportWriter {
  private readonly counts = new Map<string, number>();
  private scope = '';
  // torch numbers the values it does not scope (onnx::MatMul_281, onnx::Unsqueeze_82) from one counter.
  private nextId = 1;

  constructor(readonly g: GraphBuilder, readonly opset: number) {}

  /** Runs `body` with the values it writes named under `name`, nested in the current scope. */
  scoped<T>(name: string, body: () => T): T {
    const outer = this.scope;
    this.scope = outer === '' ? name : `${outer}/${name}`;
    try {
      return body();
    } finally {
      this.scope = outer;
    }
  }

  /** One node; its output is `output`, or the exporter's name for the k-th `op` in this scope. */
  node(op: string, inputs: readonly string[], attrs: Record<string, AttributeValue> = {}, output?: string): string {
    return this.g.node(op, inputs, [output ?? this.scopedName(op)], attrs);
  }

  /** A Constant node holding `data` with shape `dims`. */
  constant(data: TensorData, dims: readonly number[], output?: string): string {
    return this.node('Constant', [], { value: makeTensor('', data, dims) }, output);
  }

  /** A float32 scalar Constant. */
  float(value: number): string {
    return this.constant(new Float32Array([value]), []);
  }

  /** An int64 Constant: a scalar, or with `vector` a one-element tensor. */
  int64(value: number, vector = false): string {
    return this.constant(new BigInt64Array([BigInt(value)]), vector ? [1] : []);
  }

  /** A name like `onnx::MatMul_7`, for the values torch leaves out of every scope. */
  unscopedName(kind: string): string {
    return `onnx::${kind}_${this.nextId++}`;
  }

  /** Unsqueeze at `axis`; `unscopedAxes` names the axes Constant as torch does inside shape chains. */
  unsqueeze(x: string, axis: number, unscopedAxes = false): string {
    if (this.opset < 13) return this.node('Unsqueeze', [x], { axes: [axis] });
    const axes = this.constant(new BigInt64Array([BigInt(axis)]), [1], unscopedAxes ? this.unscopedName('Unsqueeze') : undefined);
    return this.node('Unsqueeze', [x, axes]);
  }

  private scopedName(op: string): string {
    const key = `${this.scope}/${op}`;
    const k = this.counts.get(key) ?? 0;
    this.counts.set(key, k + 1);
    return `/${this.scope === '' ? '' : `${this.scope}/`}${op}${k === 0 ? '' : `_${k}`}_output_0`;
  }
}
