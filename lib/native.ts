// Loads the native addon: a prebuild for this platform first, then the local
// build (via `bindings`); one error naming the remedy when neither loads.
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

function loadBinding(): NativeBinding {
  const root = packageRoot();
  const prebuild = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'onnxforge.node');
  const failures: string[] = [];
  if (fs.existsSync(prebuild)) {
    try {
      return require(prebuild) as NativeBinding;
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
      `Build it with \`npm run build:native\` (needs cmake and a C++17 compiler) or reinstall with \`npm install\`.`,
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
