// Unreferenced weight handles must be freed by the garbage collector: a child packs weights over and over,
// drops every handle, collects now and then, and says how far its resident memory grew.
import { spawnSync } from 'child_process';
import { ADDON } from './int8-isa';

/**
 * MiB the child's resident set grew by over `times` runs of `pack` (JS that may use `addon` and what `setup`
 * declares). Finalizers run after a GC once the event loop turns, hence the awaited ticks.
 */
export function rssGrowthMiB(setup: string, pack: string, times: number): { stderr: string; mib: number } {
  const script = `
    const addon = require(${JSON.stringify(ADDON)});
    ${setup}
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    (async () => {
      const before = process.memoryUsage().rss;
      for (let i = 0; i < ${times}; i++) {
        ${pack};
        if (i % 10 === 0) { global.gc(); await tick(); }
      }
      global.gc();
      await tick();
      console.log(Math.round((process.memoryUsage().rss - before) / 2 ** 20));
    })();`;
  const child = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' });
  return { stderr: child.stderr, mib: Number(child.stdout) };
}
