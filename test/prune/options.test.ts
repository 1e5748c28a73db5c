import { LayerSelector, resolveOptions } from '../../lib/prune/options';

describe('prune options', () => {
  test('N:M patterns imply their sparsity and refuse another', () => {
    expect(resolveOptions({ pattern: '2:4' })).toMatchObject({ sparsity: 0.5, nm: { n: 2, m: 4 } });
    expect(resolveOptions({ pattern: '4:8', sparsity: 0.5 })).toMatchObject({ sparsity: 0.5, nm: { n: 4, m: 8 } });
    expect(() => resolveOptions({ pattern: '2:4', sparsity: 0.7 })).toThrow(/keeps 2 of every 4/);
    expect(() => resolveOptions({ pattern: '2:4', scope: 'global' })).toThrow(/--scope global applies to unstructured and channel/);
    expect(() => resolveOptions({ pattern: '2:4', layers: { fc0: 0.3 } })).toThrow(/0.5 or 0/);
    expect(resolveOptions({ pattern: '2:4', layers: { fc0: 0 } }).layers).toEqual([['fc0', 0]]);
  });

  test('sparsities are fractions in [0, 1) and unstructured needs one', () => {
    expect(() => resolveOptions({ pattern: 'unstructured' })).toThrow(/needs a sparsity/);
    expect(() => resolveOptions({ pattern: 'channel', sparsity: 1 })).toThrow(RangeError);
    expect(() => resolveOptions({ pattern: 'channel', sparsity: -0.1 })).toThrow(RangeError);
    expect(() => resolveOptions({ pattern: 'unstructured', sparsity: 0.5, layers: { a: 1.5 } })).toThrow(/layer "a"/);
    expect(() => resolveOptions({ pattern: 'bogus' as never, sparsity: 0.5 })).toThrow(/pattern must be one of/);
    expect(() => resolveOptions({ pattern: 'channel', sparsity: 0.5, roundTo: 0 })).toThrow(/roundTo/);
    expect(resolveOptions({ pattern: 'unstructured', sparsity: 0.9 })).toMatchObject({ scope: 'layer', minParams: 4096, roundTo: 1 });
  });

  test('globs match node or weight names, the last matching override wins, unused patterns are reported', () => {
    const selector = new LayerSelector(resolveOptions({
      pattern: 'unstructured', sparsity: 0.5, exclude: ['head.*'], layers: { 'fc*': 0.3, 'fc1.weight': 0.8, 'nope?': 0.1 },
    }));
    expect(selector.excluded(['MatMul_1', 'head.weight'])).toBe(true);
    expect(selector.excluded(['MatMul_2', 'headless.weight'])).toBe(false);
    expect(selector.sparsityOf(['MatMul_0', 'fc0.weight'])).toEqual({ sparsity: 0.3, override: true });
    expect(selector.sparsityOf(['MatMul_1', 'fc1.weight'])).toEqual({ sparsity: 0.8, override: true });
    expect(selector.sparsityOf(['Conv_0', 'conv.weight'])).toEqual({ sparsity: 0.5, override: false });
    expect(selector.unusedPatterns()).toEqual(['--layer nope?=0.1 matched no layer']);
  });
});
