// Shared memory regions (createSharedRegion/openSharedRegion): what isolation 'process' moves tensors
// through. Real child processes map the same memory; bad arguments are refused with the right error
// type; close() detaches the view, and the finalizer unmaps the memory and closes the fd.
import { spawnSync } from 'child_process';
import { kernels } from '../../lib/kernels';
import { ADDON } from '../helpers/test-addon';
import { describeWhen } from '../helpers/skip';

/** Runs `script` in a fresh Node process with the addon as `addon`; its stdout, trimmed. */
function inChild(script: string, args: string[] = [], nodeArgs: string[] = []): string {
  const r = spawnSync(process.execPath, [...nodeArgs, '-e', `const addon = require(${JSON.stringify(ADDON)}); ${script}`, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim();
}

describeWhen(process.platform === 'linux' ? undefined : 'shared memory regions are Linux only', 'shared memory regions', () => {
  test('say they are supported here', () => {
    expect(kernels.sharedMemorySupported()).toBe(true);
  });

  test('a new region has the size asked, is zero-filled, and names a path of this process', () => {
    const region = kernels.createSharedRegion(100_000);
    try {
      expect(region.byteLength).toBe(100_000);
      expect(region.buffer.byteLength).toBe(100_000);
      expect(new Uint8Array(region.buffer).every((b) => b === 0)).toBe(true);
      expect(region.path).toMatch(new RegExp(`^/proc/${process.pid}/fd/\\d+$`));
    } finally {
      region.close();
    }
  });

  test('a child process reads what this one wrote, and this one reads what the child wrote back', () => {
    const region = kernels.createSharedRegion(1 << 20);
    try {
      const floats = new Float32Array(region.buffer, 0, 1024);
      floats.forEach((_, i, a) => (a[i] = i * 0.5 - 3));
      const sum = floats.reduce((s, v) => s + v, 0);
      const reply = inChild(
        `const r = addon.openSharedRegion(process.argv[1], Number(process.argv[2]));
         const f = new Float32Array(r.buffer, 0, 1024);
         console.log(f.reduce((s, v) => s + v, 0));
         new Int32Array(r.buffer, 4096, 4).set([7, -8, 9, 2147483647]);
         r.close();`,
        [region.path, String(region.byteLength)],
      );
      expect(Number(reply)).toBe(sum);
      expect(Array.from(new Int32Array(region.buffer, 4096, 4))).toEqual([7, -8, 9, 2147483647]);
    } finally {
      region.close();
    }
  });

  test('close detaches the buffer (views read as empty, never freed memory) and is idempotent', () => {
    const region = kernels.createSharedRegion(4096);
    const view = new Uint8Array(region.buffer);
    view[0] = 1;
    region.close();
    expect(region.buffer.byteLength).toBe(0);
    expect(view.length).toBe(0);
    expect(view[0]).toBeUndefined();
    expect(() => region.close()).not.toThrow();
  });

  test('the finalizer unmaps collected regions and closes their fds: 200 regions of 1 MiB leave nothing behind', () => {
    const reply = inChild(
      `const fs = require('fs');
       const count = () => fs.readFileSync('/proc/self/maps', 'utf8').split('\\n').filter((l) => l.includes('onnxforge-region')).length;
       const fds = () => fs.readdirSync('/proc/self/fd').length;
       const before = [count(), fds()];
       let kept = Array.from({ length: 200 }, () => addon.createSharedRegion(1 << 20));
       kept.forEach((r) => (new Uint8Array(r.buffer)[0] = 1));
       const held = [count(), fds()];
       kept = undefined;
       (async () => {
         for (let i = 0; i < 10 && count() > before[0]; i++) { global.gc(); await new Promise((r) => setImmediate(r)); }
         console.log(JSON.stringify({ before, held, after: [count(), fds()] }));
       })();`,
      [],
      ['--expose-gc'],
    );
    const { before, held, after } = JSON.parse(reply) as { before: number[]; held: number[]; after: number[] };
    expect(held).toEqual([before[0] + 200, before[1] + 200]);
    expect(after).toEqual(before);
  });

  test.each([
    ['a size that is not a number', () => kernels.createSharedRegion('8' as never), TypeError],
    ['a zero size', () => kernels.createSharedRegion(0), RangeError],
    ['a negative size', () => kernels.createSharedRegion(-1), RangeError],
    ['a fractional size', () => kernels.createSharedRegion(1.5), RangeError],
    ['a size over 1 TiB', () => kernels.createSharedRegion(2 ** 41), RangeError],
    ['no argument', () => (kernels.createSharedRegion as () => unknown)(), TypeError],
    ['a path that is not a string', () => kernels.openSharedRegion(3 as never, 8), TypeError],
    ['a path that is not a region path', () => kernels.openSharedRegion('/etc/passwd', 8), TypeError],
    ['a path that escapes /proc/<pid>/fd', () => kernels.openSharedRegion('/proc/1/fd/../../../etc/passwd', 8), TypeError],
  ])('%s is refused with the right error type', (_what, call, type) => {
    expect(call).toThrow(type);
  });

  test('opening with a size other than the region\'s is a RangeError; a region that does not exist an Error naming it', () => {
    const region = kernels.createSharedRegion(8192);
    try {
      expect(() => kernels.openSharedRegion(region.path, 4096)).toThrow(RangeError);
      expect(() => kernels.openSharedRegion(region.path, 16384)).toThrow(/is not a region of 16384 bytes/);
      expect(() => kernels.openSharedRegion(`/proc/${process.pid}/fd/999999`, 8)).toThrow(/cannot open \/proc\/\d+\/fd\/999999/);
    } finally {
      region.close();
    }
  });
});
