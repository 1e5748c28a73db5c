// A user's machine without build tools: a PATH holding only node, npm, npx and sh, so that neither cmake
// nor any compiler can be found, for installing packed tarballs into fresh projects.
import { spawnSync, type SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { onPath } from './on-path';

export const BUILD_TOOLS = ['cmake', 'make', 'ninja', 'cc', 'c++', 'gcc', 'g++', 'clang', 'clang++'];

/** Makes `dir` a folder of links to node, npm, npx and sh, and returns a PATH of that folder alone. */
export function pathWithoutToolchain(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const tools: Record<string, string | undefined> = { node: process.execPath, npm: onPath('npm'), npx: onPath('npx'), sh: '/bin/sh' };
  for (const [name, target] of Object.entries(tools)) {
    if (!target) throw new Error(`${name} is not on PATH`);
    fs.symlinkSync(fs.realpathSync(target), path.join(dir, name));
  }
  return dir;
}

/** This environment without what `npm test` adds (npm_config_*, npm_package_*, ...), which would configure a child npm. */
function userEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) && name !== 'INIT_CWD'));
}

/** Runs a command in `cwd` with only `binPath` on PATH (onnxruntime-node's download skipped, as in .ci/run). */
export function runWithout(binPath: string, cwd: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: { ...userEnvironment(), PATH: binPath, ONNXRUNTIME_NODE_INSTALL: 'skip', ...env },
    maxBuffer: 1 << 26,
    timeout: 600_000,
  });
}
