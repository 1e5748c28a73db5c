// The model cache's books: reservations before a load, the measured figure after it, LRU eviction.
import { ModelCache, CacheEntry } from '../../lib/runtime/cache';
import { CapacityError } from '../../lib/runtime/errors';

function entry(name: string, bytes: number, lastUsed: number, extra: Partial<CacheEntry> = {}): CacheEntry {
  return { name, version: 1, bytes, pinned: false, busy: false, lastUsed, ...extra };
}

describe('ModelCache', () => {
  test('a load reserves its estimate, evicting least recently used idle entries first', () => {
    const cache = new ModelCache<CacheEntry>(1000);
    const [old, recent, pinned] = [entry('old', 300, 1), entry('recent', 300, 2), entry('pinned', 300, 0, { pinned: true })];
    for (const e of [old, recent, pinned]) {
      cache.reserve(e.bytes, e.name);
      cache.settle(e.bytes, e);
    }
    expect(cache.usedBytes).toBe(900);
    expect(cache.reserve(400, 'next').map((e) => e.name)).toEqual(['old']);
    expect(cache.usedBytes).toBe(1000);
    // Evicting 'recent' too would free 300 of the 700 asked: the pinned one and the reservation hold the rest.
    expect(() => cache.reserve(700, 'more')).toThrow(CapacityError);
  });

  test('a version measured at more than its reservation counts what it measured, and trim evicts others to fit', () => {
    const cache = new ModelCache<CacheEntry>(1000);
    const a = entry('a', 300, 1);
    const b = entry('b', 300, 2);
    for (const e of [a, b]) {
      cache.reserve(e.bytes, e.name);
      cache.settle(e.bytes, e);
    }
    // Reserved 200 (file size x instances), measured 600 once loaded.
    cache.reserve(200, 'c');
    const c = entry('c', 600, 3);
    cache.settle(200, c);
    expect(cache.usedBytes).toBe(1200);
    expect(cache.trim(c).map((e) => e.name)).toEqual(['a']);
    expect(cache.usedBytes).toBe(900);
    expect(cache.trim(c)).toEqual([]);
  });

  test('trim never evicts the version just loaded, busy or pinned ones: the books stay over budget', () => {
    const cache = new ModelCache<CacheEntry>(500);
    const busy = entry('busy', 300, 1, { busy: true });
    cache.reserve(300, 'busy');
    cache.settle(300, busy);
    cache.reserve(100, 'big');
    const big = entry('big', 400, 2);
    cache.settle(100, big);
    expect(cache.trim(big)).toEqual([]);
    expect(cache.usedBytes).toBe(700);
  });
});
