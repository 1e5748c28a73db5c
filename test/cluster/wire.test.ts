// The pieces of the cluster that need no Redis: the binary tensor format, failure reasons,
// priorities, Redis URLs, names, .npz outputs and batch sample listing.
import * as fs from 'fs';
import * as path from 'path';
import { listSamples } from '../../lib/cluster/batch-inputs';
import { connectionOptions, redactUrl } from '../../lib/cluster/connection';
import { errorFromReason, failureReason } from '../../lib/cluster/failure';
import { bullPriority, parseJobData } from '../../lib/cluster/jobs';
import { checkModelName, checkWorkerName, inferQueueName } from '../../lib/cluster/names';
import { encodeNpz } from '../../lib/cluster/npz-write';
import { decodeItems, encodeItems, type WireItem } from '../../lib/cluster/wire';
import { encodeNpy } from '../../lib/compare/npy';
import type { HostTensor } from '../../lib/engine/tensor';
import { parseNpz } from '../../lib/quantize/calibration/npz';
import { ModelNotFoundError, RequestTimeoutError } from '../../lib/runtime/errors';
import { makeTempDir, removeDir } from '../helpers/temp';

const TENSORS: Record<string, HostTensor> = {
  f32: { type: 'float32', dims: [2, 3], data: Float32Array.from([1.5, -2, 3, 0, Number.MAX_VALUE, -0]) },
  f64: { type: 'float64', dims: [1], data: Float64Array.from([Math.PI]) },
  f16: { type: 'float16', dims: [2], data: Uint16Array.from([0x3c00, 0xc000]) },
  i8: { type: 'int8', dims: [3], data: Int8Array.from([-128, 0, 127]) },
  u8: { type: 'uint8', dims: [0, 4], data: new Uint8Array(0) },
  i64: { type: 'int64', dims: [2], data: BigInt64Array.from([-(2n ** 63n), 2n ** 62n + 1n]) },
  u64: { type: 'uint64', dims: [1], data: BigUint64Array.from([2n ** 64n - 1n]) },
  b: { type: 'bool', dims: [2], data: Uint8Array.from([1, 0]) },
  s: { type: 'string', dims: [3], data: ['', 'héllo', 'a\u0000b'] },
  scalar: { type: 'int32', dims: [], data: Int32Array.from([-7]) },
};

describe('cluster wire format', () => {
  test('every tensor type and error items round-trip bit for bit', () => {
    const items: WireItem[] = [{ tensors: TENSORS }, { error: { status: 404, message: 'unknown model "x"' } }, { tensors: {} }];
    const decoded = decodeItems(encodeItems(items));
    expect(decoded).toHaveLength(3);
    const [first] = decoded as [{ tensors: Record<string, HostTensor> }];
    for (const [name, tensor] of Object.entries(TENSORS)) {
      expect(first.tensors[name].type).toBe(tensor.type);
      expect(first.tensors[name].dims).toEqual(tensor.dims);
      expect(Array.from(first.tensors[name].data as ArrayLike<unknown>)).toEqual(Array.from(tensor.data as ArrayLike<unknown>));
    }
    expect(decoded[1]).toEqual(items[1]);
    expect(decoded[2]).toEqual({ tensors: {} });
  });

  test('a name like __proto__ stays a plain key', () => {
    const [item] = decodeItems(encodeItems([{ tensors: { ['__proto__']: TENSORS.scalar } }])) as [{ tensors: Record<string, HostTensor> }];
    expect(Object.keys(item.tensors)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(item.tensors)).toBe(Object.prototype);
  });

  test('malformed payloads are 400s naming what is wrong, never a crash', () => {
    const good = encodeItems([{ tensors: { x: TENSORS.f32 } }]);
    const header = (json: unknown, tail = Buffer.alloc(0)) => {
      const text = Buffer.from(JSON.stringify(json));
      const length = Buffer.alloc(4);
      length.writeUInt32LE(text.length);
      return Buffer.concat([length, text, tail]);
    };
    const cases: [Buffer, RegExp][] = [
      [Buffer.alloc(2), /shorter than its header/],
      [good.subarray(0, 10), /header runs past the end/],
      [good.subarray(0, good.length - 1), /runs past the end/],
      [Buffer.concat([good, Buffer.alloc(3)]), /3 bytes after the last tensor/],
      [header({ items: [] }), /not a list of items/],
      [header([{ tensors: [{ name: 'x', type: 'complex64', dims: [1], bytes: 8 }] }], Buffer.alloc(8)), /unknown type "complex64"/],
      [header([{ tensors: [{ name: 'x', type: 'float32', dims: [-1], bytes: 4 }] }], Buffer.alloc(4)), /dims must be non-negative integers/],
      [header([{ tensors: [{ name: 'x', type: 'float32', dims: [2], bytes: 4 }] }], Buffer.alloc(4)), /4 bytes, its shape and type need 8/],
      [header([{ tensors: [{ name: 'x', type: 'string', dims: [1], bytes: 6 }] }], Buffer.from([9, 0, 0, 0, 1, 2])), /truncated string element/],
      [header([{ tensors: [{ name: 'x', type: 'int8', dims: [1], bytes: 1 }, { name: 'x', type: 'int8', dims: [1], bytes: 1 }] }], Buffer.alloc(2)), /"x" appears twice/],
      [header([{ nothing: true }]), /neither tensors nor an error/],
    ];
    for (const [payload, reason] of cases) {
      expect(() => decodeItems(payload)).toThrow(expect.objectContaining({ status: 400, message: expect.stringMatching(reason) }));
    }
  });

  test('a failed job\'s reason carries the runtime error across machines', () => {
    const reason = failureReason(new ModelNotFoundError('unknown model "m"'));
    expect(reason).toBe('[404] unknown model "m"');
    expect(errorFromReason(reason)).toBeInstanceOf(ModelNotFoundError);
    expect(errorFromReason('[504] too slow')).toBeInstanceOf(RequestTimeoutError);
    expect(errorFromReason('job stalled more than allowable limit')).toMatchObject({ status: 500, message: 'job failed: job stalled more than allowable limit' });
    expect(failureReason(new Error('plain'))).toBe('[500] plain');
  });

  test('job data is checked before anything in it is used', () => {
    expect(() => parseJobData({ model: 'm', input: { bytes: -1 } }, 'infer')).toThrow(/malformed job: input: expected a payload reference/);
    expect(() => parseJobData({ model: 'm', input: { bytes: 0, inline: '' }, script: 'rm -rf /' }, 'infer')).toThrow(/malformed job: .*script/);
    expect(parseJobData({ model: 'm', version: 2, input: { bytes: 0, inline: '' } }, 'chunk')).toMatchObject({ model: 'm', version: 2 });
  });

  test('priorities: larger first, as BullMQ ranks 1 first; out of range is a 400', () => {
    expect(bullPriority(5)).toBeLessThan(bullPriority(0));
    expect(bullPriority(0)).toBeLessThan(bullPriority(-5));
    expect(bullPriority(1048575)).toBe(1);
    expect(bullPriority(-1048575)).toBe(2097151);
    expect(() => bullPriority(1048576)).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => bullPriority(0.5)).toThrow(/priority must be an integer/);
  });

  test('Redis URLs: password, user, database, TLS; passwords never shown', () => {
    expect(connectionOptions('redis://:s%40cret@cache.internal:6380/2')).toMatchObject({ host: 'cache.internal', port: 6380, password: 's@cret', db: 2, tls: undefined });
    expect(connectionOptions('rediss://app:pw@redis.example.com')).toMatchObject({ host: 'redis.example.com', port: 6379, username: 'app', password: 'pw', tls: { servername: 'redis.example.com' } });
    expect(connectionOptions('rediss://10.0.0.5:6380').tls).toEqual({});
    expect(() => connectionOptions('http://host')).toThrow('a Redis URL starts with redis:// or rediss://, got "http://host"');
    expect(() => connectionOptions('redis://:hunter2@host/x')).toThrow('the Redis database must be a number, got "x" in "redis://:***@host/x"');
    expect(() => connectionOptions('not a url :hunter2@')).toThrow(/expected a Redis URL/);
    expect(redactUrl('rediss://user:hunter2@host:1/0')).toBe('rediss://user:***@host:1/0');
  });

  test('names that become Redis keys are checked', () => {
    expect(inferQueueName('bert.int8')).toBe('infer.bert.int8');
    expect(() => checkModelName('a:b')).toThrow(ModelNotFoundError);
    expect(() => checkModelName('../x')).toThrow(ModelNotFoundError);
    expect(() => checkWorkerName('gpu box')).toThrow(/worker name "gpu box" must be/);
    expect(checkWorkerName('gpu-1.rack_2')).toBe('gpu-1.rack_2');
  });

  test('.npz outputs read back as what was written', () => {
    const bytes = encodeNpz({ logits: TENSORS.f32, ids: TENSORS.i64 });
    const arrays = parseNpz(bytes, 'out.npz');
    expect([...arrays.keys()]).toEqual(['logits', 'ids']);
    expect(Array.from(arrays.get('logits')!.data as Float32Array)).toEqual(Array.from(TENSORS.f32.data as Float32Array));
    expect(arrays.get('ids')!.data).toEqual(TENSORS.i64.data);
  });

  test('batch samples: .npy, .npz and folders by name; two entries with one name are refused', () => {
    const dir = makeTempDir();
    try {
      fs.writeFileSync(path.join(dir, 'b.npy'), encodeNpy(TENSORS.f32));
      fs.writeFileSync(path.join(dir, 'a.npz'), encodeNpz({ input: TENSORS.f32 }));
      fs.mkdirSync(path.join(dir, 'c'));
      fs.writeFileSync(path.join(dir, '.hidden.npy'), '');
      fs.writeFileSync(path.join(dir, 'notes.txt'), '');
      expect(listSamples(dir).map((s) => s.name)).toEqual(['a', 'b', 'c']);
      fs.writeFileSync(path.join(dir, 'b.npz'), encodeNpz({ input: TENSORS.f32 }));
      expect(() => listSamples(dir)).toThrow(/b\.npy and b\.npz are both sample "b"/);
    } finally {
      removeDir(dir);
    }
  });
});
