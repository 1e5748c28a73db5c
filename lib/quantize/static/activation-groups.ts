// Values that must share one scale and zero point: a pass-through op's output and its input
// (Reshape, Transpose, MaxPool, ...: onnxruntime then drops their Q/DQ pair and int8 flows through),
// and the inputs and output of a Concat (so the concatenation copies bytes without requantizing).
export class ActivationGroups {
  private readonly parent = new Map<string, string>();
  private membersCache: Map<string, string[]> | undefined;

  find(name: string): string {
    let root = name;
    while (this.parent.has(root) && this.parent.get(root) !== root) root = this.parent.get(root) as string;
    // Path compression keeps later finds short.
    for (let n = name; n !== root;) {
      const next = this.parent.get(n) as string;
      this.parent.set(n, root);
      n = next;
    }
    return root;
  }

  union(a: string, b: string): void {
    const [ra, rb] = [this.find(a), this.find(b)];
    if (ra !== rb) this.parent.set(rb, ra);
    this.membersCache = undefined;
  }

  /** Every value sharing `name`'s parameters, `name` included. */
  members(name: string): string[] {
    if (!this.membersCache) {
      this.membersCache = new Map();
      for (const n of this.parent.keys()) {
        const root = this.find(n);
        const list = this.membersCache.get(root) ?? [];
        list.push(n);
        this.membersCache.set(root, list);
      }
    }
    const found = this.membersCache.get(this.find(name));
    return found && found.includes(name) ? found : [name];
  }
}
