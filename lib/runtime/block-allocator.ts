// First-fit allocation of blocks inside one shared memory region (isolation 'process'): each block
// holds the tensors of one run, and is freed only when the other side is done reading it.

/** Blocks start on 64-byte boundaries: every typed array kind is aligned, and no two blocks share a cache line. */
export const BLOCK_ALIGNMENT = 64;

export function alignBlock(bytes: number): number {
  return Math.ceil(bytes / BLOCK_ALIGNMENT) * BLOCK_ALIGNMENT;
}

export class BlockAllocator {
  /** Free ranges, sorted by offset, never adjacent (merged on free). */
  private readonly free: { offset: number; bytes: number }[];
  /** Size of each block handed out, by offset. */
  private readonly blocks = new Map<number, number>();

  constructor(readonly capacity: number) {
    this.free = capacity > 0 ? [{ offset: 0, bytes: capacity }] : [];
  }

  /** Blocks handed out and not freed. */
  get inUse(): number {
    return this.blocks.size;
  }

  /** The offset of a new block of at least `bytes` (rounded up to the alignment), or undefined when none is free. */
  allocate(bytes: number): number | undefined {
    const size = alignBlock(Math.max(1, bytes));
    const index = this.free.findIndex((range) => range.bytes >= size);
    if (index < 0) return undefined;
    const range = this.free[index];
    const offset = range.offset;
    if (range.bytes === size) this.free.splice(index, 1);
    else this.free[index] = { offset: offset + size, bytes: range.bytes - size };
    this.blocks.set(offset, size);
    return offset;
  }

  /** Returns a block; an offset that is not a live block is an error (a double free would let two runs share memory). */
  release(offset: number): void {
    const size = this.blocks.get(offset);
    if (size === undefined) throw new Error(`no block at offset ${offset}`);
    this.blocks.delete(offset);
    let index = this.free.findIndex((range) => range.offset > offset);
    if (index < 0) index = this.free.length;
    this.free.splice(index, 0, { offset, bytes: size });
    const next = this.free[index + 1];
    if (next && offset + size === next.offset) {
      this.free[index].bytes += next.bytes;
      this.free.splice(index + 1, 1);
    }
    const previous = this.free[index - 1];
    if (previous && previous.offset + previous.bytes === offset) {
      previous.bytes += this.free[index].bytes;
      this.free.splice(index, 1);
    }
  }
}
