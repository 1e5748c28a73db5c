// Loads the native addon from the first place that has it:
//   1. ONNXFORGE_BINARY, an explicit path: when it is set, nothing else is tried;
//   2. prebuilds/<platform>-<arch>/onnxforge.node, a prebuilt binary;
//   3. the local build (build/Release/onnxforge.node, found by `bindings`).
// A binary that was not built here (1 and 2) is first loaded in a child process, so one that
// crashes as it loads (built for another CPU or libc) kills the child, not this process, and
// one that is not an onnxforge addon is refused. Failing all, one error says what was tried.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { NativeBinding } from '../binding';
import { packageRoot } from './package-info';

export type { NativeBinding } from '../binding';

const VALID_ISA_NAMES = ['scalar', 'avx2', 'avx512vnni', 'amx'];

export class NativeLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NativeLoadError';
  }
}

// Run by the child: prints 'ok', or why the file is not a loadable onnxforge addon.
const PROBE = `
let addon;
try { addon = require(process.argv[1]); } catch (e) { process.stdout.write(String(e && e.message).split('\\n')[0]); process.exit(2); }
process.stdout.write(typeof addon.cpuInfo === 'function' ? 'ok' : 'it is not an onnxforge addon (it has no cpuInfo)');
`;

/** Why `file` cannot be loaded, found in a child process; null when it loads. */
function probeFailure(file: string): string | null {
  if (!fs.existsSync(file)) return 'no such file';
  const child = spawnSync(process.execPath, ['-e', PROBE, file], {
    encoding: 'utf8',
    timeout: 60_000,
    // An Electron app's execPath runs as Node only when asked to.
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
  });
  if (child.error) return `could not start a process to test it (${child.error.message})`;
  if (child.signal) return `loading it crashed a test process (${child.signal})`;
  if (child.status === 0 && child.stdout === 'ok') return null;
  return child.stdout || `loading it failed in a test process (exit code ${child.status})`;
}

function loadTested(file: string): NativeBinding {
  const failure = probeFailure(file);
  if (failure) throw new Error(failure);
  return require(file) as NativeBinding;
}

function loadBinding(): NativeBinding {
  const explicit = process.env.ONNXFORGE_BINARY;
  if (explicit) {
    const file = path.resolve(explicit);
    try {
      return loadTested(file);
    } catch (err) {
      throw new NativeLoadError(`ONNXFORGE_BINARY=${explicit} cannot be loaded: ${(err as Error).message}`);
    }
  }
  const root = packageRoot();
  const prebuild = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'onnxforge.node');
  const failures: string[] = [];
  if (fs.existsSync(prebuild)) {
    try {
      return loadTested(prebuild);
    } catch (err) {
      failures.push(`${prebuild}: ${(err as Error).message}`);
    }
  }
  try {
    const bindings = require('bindings') as (opts: { bindings: string; module_root: string }) => NativeBinding;
    return bindings({ bindings: 'onnxforge.node', module_root: root });
  } catch (err) {
    failures.push(`build/Release/onnxforge.node: ${(err as Error).message.split('\n')[0]}`);
  }
  throw new NativeLoadError(
    `onnxforge native addon could not be loaded (${failures.join('; ')}). ` +
      `Build it with \`npm run build:native\` (needs cmake and a C++17 compiler), reinstall with \`npm install\`, ` +
      `or point ONNXFORGE_BINARY at a built onnxforge.node.`,
  );
}

function checkIsaCap(): void {
  const cap = process.env.ONNXFORGE_ISA;
  if (cap && !VALID_ISA_NAMES.includes(cap)) {
    throw new NativeLoadError(`ONNXFORGE_ISA=${cap} is not a known ISA level; use one of ${VALID_ISA_NAMES.join(', ')}`);
  }
}

let cached: NativeBinding | undefined;

/** The addon, loaded on first use. */
export function native(): NativeBinding {
  if (!cached) {
    checkIsaCap();
    cached = loadBinding();
  }
  return cached;
}
