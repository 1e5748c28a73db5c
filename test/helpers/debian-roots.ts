// Debian packages unpacked by scripts/debian-root.sh (.ci/run makes them): an older glibc to load the
// addon on, and an arm64 Node to run the cross-built addon in under qemu. Absent roots skip their tests.
import { spawnSync, type SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { onPath } from './on-path';
import type { Absent } from './skip';
import { ROOT } from './test-addon';

const GLIBC_231 = path.join(ROOT, 'build', 'roots', 'glibc-2.31', 'root');
const NODE_ARM64 = path.join(ROOT, 'build', 'roots', 'node-arm64', 'root');

function rootAbsent(root: string, command: string): Absent {
  return fs.existsSync(root) ? undefined : `${root} is missing; make it with \`${command}\``;
}

export function glibc231Absent(): Absent {
  if (process.platform !== 'linux' || process.arch !== 'x64') return 'the glibc 2.31 root is for linux-x64';
  return rootAbsent(GLIBC_231, 'scripts/debian-root.sh build/roots/glibc-2.31 bullseye amd64 libc6 libstdc++6 libgcc-s1');
}

export function nodeArm64Absent(): Absent {
  if (!onPath('qemu-aarch64')) return 'qemu-aarch64 is not installed (apt-get install qemu-user)';
  return rootAbsent(NODE_ARM64, 'see .ci/run: scripts/debian-root.sh build/roots/node-arm64 bookworm arm64 nodejs ...');
}

/** Runs `script` in this Node on bullseye's glibc 2.31 (its dynamic loader and libraries). */
export function runNodeOnGlibc231(script: string): SpawnSyncReturns<string> {
  const libs = [path.join(GLIBC_231, 'lib/x86_64-linux-gnu'), path.join(GLIBC_231, 'usr/lib/x86_64-linux-gnu')].join(':');
  return spawnSync(path.join(GLIBC_231, 'lib/x86_64-linux-gnu/ld-2.31.so'), ['--library-path', libs, process.execPath, '-e', script], { encoding: 'utf8' });
}

/** Runs `script` in Debian's arm64 Node under qemu-aarch64. */
export function runNodeArm64(script: string): SpawnSyncReturns<string> {
  return spawnSync('qemu-aarch64', ['-L', NODE_ARM64, path.join(NODE_ARM64, 'usr/bin/node'), '-e', script], { encoding: 'utf8', timeout: 120_000 });
}

/** Runs an aarch64 program under qemu-aarch64 with Debian's cross libraries. */
export function runArm64Program(file: string, env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> {
  return spawnSync('qemu-aarch64', ['-L', '/usr/aarch64-linux-gnu', file], { encoding: 'utf8', env, timeout: 300_000, maxBuffer: 1 << 26 });
}
