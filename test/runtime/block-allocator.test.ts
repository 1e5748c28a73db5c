// BlockAllocator: the blocks of one shared region. A block in use is never handed out twice, freed
// neighbours merge back so the whole region is usable again, and a double free is an error.
import { BLOCK_ALIGNMENT, BlockAllocator } from '../../lib/runtime/block-allocator';

test('blocks are aligned and never overlap while in use', () => {
  const a = new BlockAllocator(1024);
  const blocks = [1, 63, 64, 65, 100].map((bytes) => ({ bytes, at: a.allocate(bytes)! }));
  for (const { at } of blocks) expect(at % BLOCK_ALIGNMENT).toBe(0);
  const ranges = blocks.map(({ bytes, at }) => [at, at + bytes]).sort((x, y) => x[0] - y[0]);
  for (let i = 1; i < ranges.length; i++) expect(ranges[i][0]).toBeGreaterThanOrEqual(ranges[i - 1][1]);
  expect(a.inUse).toBe(5);
});

test('a request larger than any free range gets nothing; freeing the neighbours makes the whole region one block again', () => {
  const a = new BlockAllocator(256);
  const first = a.allocate(64)!;
  const second = a.allocate(64)!;
  const third = a.allocate(128)!;
  expect(a.allocate(1)).toBeUndefined();
  a.release(second);
  expect(a.allocate(128)).toBeUndefined();
  a.release(first);
  a.release(third);
  expect(a.inUse).toBe(0);
  expect(a.allocate(256)).toBe(0);
});

test('a freed block is reused, first fit', () => {
  const a = new BlockAllocator(512);
  const first = a.allocate(128)!;
  a.allocate(128);
  a.release(first);
  expect(a.allocate(64)).toBe(first);
});

test('freeing a block twice, or an offset that is no block, is an error', () => {
  const a = new BlockAllocator(256);
  const block = a.allocate(64)!;
  a.release(block);
  expect(() => a.release(block)).toThrow(/no block at offset 0/);
  expect(() => a.release(32)).toThrow(/no block at offset 32/);
});

test('an empty allocator hands out nothing', () => {
  expect(new BlockAllocator(0).allocate(1)).toBeUndefined();
});
