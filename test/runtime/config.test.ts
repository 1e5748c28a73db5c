import * as fs from 'fs';
import * as path from 'path';
import { ModelConfigError, parseModelConfig, parseModelConfigText } from '../../lib/runtime/config';
import { ModelNotFoundError } from '../../lib/runtime/errors';
import { readRepositoryModel, scanRepository } from '../../lib/runtime/repository';
import { smallMlp, tempDir, writeRepository } from './fixtures';

describe('model config', () => {
  test('an empty config gets the defaults', () => {
    const config = parseModelConfig({}, 'm/config.json');
    expect(config).toMatchObject({
      maxBatchSize: 0,
      instances: { count: 1, device: 'cpu', maxInflight: 1 },
      preload: 'eager',
      pinned: false,
      queue: { maxSize: 1024, timeoutMs: 30000, defaultPriority: 0 },
      warmup: { samples: 1, batchSizes: [1] },
      versionPolicy: { latest: 1 },
    });
    expect(config.dynamicBatching).toBeUndefined();
    // No engine named: the server's default (--engine, 'auto' unless told) decides.
    expect(config.engine).toBeUndefined();
  });

  test.each(['native', 'ort', 'auto'] as const)('engine %s is accepted', (engine) => {
    expect(parseModelConfig({ engine }, 'm/config.json').engine).toBe(engine);
  });

  test('reads every field', () => {
    const config = parseModelConfig(
      {
        name: 'm',
        max_batch_size: 16,
        inputs: [{ name: 'x', datatype: 'FP32', dims: [-1, 8] }],
        dynamic_batching: { preferred_batch_size: [8, 4], max_queue_delay_ms: 2, padding: { dims: ['seq'], values: { x: -1 } } },
        instances: { count: 2, device: 'cuda', max_inflight: 2 },
        threads: 1,
        preload: 'lazy',
        pinned: true,
        idle_unload_ms: 1000,
        memory_bytes: 4096,
        queue: { max_size: 8, timeout_ms: 100, default_priority: 3 },
        warmup: { samples: 2, batch_sizes: [1, 16], dims: { seq: 4 } },
        version_policy: { specific: [1, 3] },
      },
      'm/config.json',
    );
    expect(config.dynamicBatching).toEqual({ preferredBatchSizes: [4, 8], maxQueueDelayMs: 2, padding: { dims: ['seq'], values: { x: -1 } } });
    expect(config.instances).toEqual({ count: 2, device: 'cuda', maxInflight: 2 });
    expect(config.queue).toEqual({ maxSize: 8, timeoutMs: 100, defaultPriority: 3 });
    expect(config.warmup.batchSizes).toEqual([1, 16]);
    expect(config.versionPolicy).toEqual({ specific: [1, 3] });
  });

  test('memory limits and isolation: defaults, then read', () => {
    // No isolation named: the server's --isolation decides.
    expect(parseModelConfig({}, 'm/config.json')).toMatchObject({ isolation: undefined, memoryArena: false, maxRequestMemoryBytes: undefined, maxBatchMemoryBytes: undefined });
    const json = { isolation: 'process', memory_arena: true, max_request_memory_bytes: 1000, max_batch_memory_bytes: 4000 };
    expect(parseModelConfig(json, 'm/config.json')).toMatchObject({ isolation: 'process', memoryArena: true, maxRequestMemoryBytes: 1000, maxBatchMemoryBytes: 4000 });
    expect(parseModelConfig({ isolation: 'none' }, 'm/config.json').isolation).toBe('none');
  });

  test.each([
    [{ isolation: 'container' }, 'isolation'],
    [{ max_request_memory_bytes: 0 }, 'max_request_memory_bytes'],
    [{ max_batch_size: -1 }, 'max_batch_size: Too small'],
    [{ engine: 'tensorrt' }, 'engine: expected "native", "ort" or "auto"'],
    [{ engine: 'native', instances: { device: 'cuda' } }, 'engine: the native engine runs on the CPU'],
    [{ instances: { count: 0 } }, 'instances.count'],
    [{ instances: { max_inflight: 0 } }, 'instances.max_inflight'],
    [{ preload: 'sometimes' }, 'preload'],
    [{ dynamic_batching: {} }, 'dynamic_batching: needs max_batch_size > 0'],
    [{ max_batch_size: 4, dynamic_batching: { preferred_batch_size: [8] } }, 'dynamic_batching.preferred_batch_size[0]: 8 exceeds max_batch_size (4)'],
    [{ inputs: [{ name: 'x', datatype: 'FLOAT', dims: [1] }] }, 'inputs[0].datatype: expected one of BOOL'],
    [{ unknown_field: 1 }, 'unknown_field'],
    [{ version_policy: { newest: 1 } }, 'version_policy: expected {"latest": N}'],
  ])('rejects %j with a message naming the field', (json, message) => {
    expect(() => parseModelConfig(json, 'm/config.json')).toThrow(ModelConfigError);
    expect(() => parseModelConfig(json, 'm/config.json')).toThrow(message);
  });

  test('malformed JSON names the file', () => {
    expect(() => parseModelConfigText('{ "max_batch_size": ', 'm/config.json')).toThrow(/^m\/config.json: not valid JSON/);
  });
});

describe('repository', () => {
  test('lists models and the versions their policy serves; a broken model carries its reason', () => {
    const repo = writeRepository({
      a: { versions: { 1: smallMlp(), 2: smallMlp(1), 10: smallMlp(2) } },
      b: { config: { version_policy: { all: true } }, versions: { 1: smallMlp(), 2: smallMlp(1) } },
      c: { config: { version_policy: { specific: [3] } }, versions: { 1: smallMlp() } },
      d: { config: '{ nope', versions: { 1: smallMlp() } },
      e: { config: { name: 'other' }, versions: { 1: smallMlp() } },
    });
    fs.mkdirSync(path.join(repo, 'empty'));
    const models = scanRepository(repo);
    expect(models.map((m) => m.name)).toEqual(['a', 'b', 'c', 'd', 'e', 'empty']);
    const [a, b, c, d, e, empty] = models;
    expect(a.versions.map((v) => v.version)).toEqual([10]);
    expect(a.versions[0].bytes).toBeGreaterThan(100);
    expect(b.versions.map((v) => v.version)).toEqual([1, 2]);
    expect(c.error).toMatch(/version_policy names version\(s\) 3/);
    expect(d.error).toMatch(/d\/config.json: not valid JSON/);
    expect(e.error).toMatch(/name "other" differs from the folder name "e"/);
    expect(empty.error).toMatch(/no version folder holds a model.onnx/);
  });

  test('an unknown model or a missing repository is a clear error', () => {
    const repo = tempDir('repo');
    expect(() => readRepositoryModel(repo, 'missing')).toThrow(ModelNotFoundError);
    expect(() => readRepositoryModel(repo, '../etc')).toThrow(ModelNotFoundError);
    expect(() => scanRepository(path.join(repo, 'nope'))).toThrow(/is not a directory/);
  });
});
