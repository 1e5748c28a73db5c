// Producers, consumers and constants of an IrGraph, kept current while fusions rewrite it.
import type { IrGraph, IrNode } from './ir';
import type { ConstTensor } from './tensor-data';

export class GraphEdit {
  private producers = new Map<string, IrNode>();
  private consumers = new Map<string, IrNode[]>();
  private readonly outputs: Set<string>;
  private counter = 0;

  constructor(readonly graph: IrGraph) {
    this.outputs = new Set(graph.outputs.map((o) => o.name));
    this.reindex();
  }

  reindex(): void {
    this.producers = new Map();
    this.consumers = new Map();
    for (const node of this.graph.nodes) {
      for (const o of node.outputs) if (o) this.producers.set(o, node);
      for (const i of node.inputs) {
        if (!i) continue;
        const list = this.consumers.get(i) ?? [];
        list.push(node);
        this.consumers.set(i, list);
      }
    }
  }

  producer(name: string): IrNode | undefined {
    return this.producers.get(name);
  }

  /** The producer when it is an `op` node (default domain). */
  producedBy(name: string, op: string): IrNode | undefined {
    const p = this.producers.get(name);
    return p && p.op === op && p.domain === '' ? p : undefined;
  }

  consumersOf(name: string): IrNode[] {
    return this.consumers.get(name) ?? [];
  }

  /** The one node reading `name`, when there is exactly one and `name` is not a graph output. */
  soleConsumer(name: string, op?: string): IrNode | undefined {
    const list = this.consumersOf(name);
    if (list.length !== 1 || this.outputs.has(name)) return undefined;
    return op === undefined || (list[0].op === op && list[0].domain === '') ? list[0] : undefined;
  }

  isGraphOutput(name: string): boolean {
    return this.outputs.has(name);
  }

  constant(name: string): ConstTensor | undefined {
    return name ? this.graph.constants.get(name) : undefined;
  }

  addConstant(prefix: string, tensor: ConstTensor): string {
    let name: string;
    do name = `${prefix}__engine_${this.counter++}`; while (this.graph.constants.has(name) || this.producers.has(name));
    this.graph.constants.set(name, tensor);
    return name;
  }

  /** Replaces `removed` (all of them) by `added`, placed where the last removed node was. */
  replace(removed: IrNode[], added: IrNode[]): void {
    const gone = new Set(removed);
    const nodes = this.graph.nodes;
    let at = -1;
    nodes.forEach((n, i) => { if (gone.has(n)) at = i; });
    const kept: IrNode[] = [];
    nodes.forEach((n, i) => {
      if (!gone.has(n)) kept.push(n);
      if (i === at) kept.push(...added);
    });
    this.graph.nodes = kept;
    this.reindex();
  }

  /** Drops nodes whose outputs no graph output depends on. */
  removeDead(): void {
    const needed = new Set(this.outputs);
    const live: IrNode[] = [];
    for (let i = this.graph.nodes.length - 1; i >= 0; i--) {
      const node = this.graph.nodes[i];
      if (!node.outputs.some((o) => o && needed.has(o))) continue;
      live.push(node);
      for (const input of node.inputs) if (input) needed.add(input);
    }
    this.graph.nodes = live.reverse();
    this.reindex();
  }
}
