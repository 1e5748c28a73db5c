// The addons as tests (and benchmarks) load them directly: the shipped one, and the test
// addon, which adds the hooks of binding.d.ts's TestBinding. `npm run build:native` builds both.
import * as fs from 'fs';
import * as path from 'path';
import type { TestBinding } from '../../binding';
import { packageRoot } from '../../lib/package-info';

export const ROOT = packageRoot();
export const ADDON = path.join(ROOT, 'build', 'Release', 'onnxforge.node');
export const TEST_ADDON = path.join(ROOT, 'build', 'Release', 'onnxforge_test.node');

let loaded: TestBinding | undefined;

/** The test addon, loaded on first use; a clear error when it has not been built. */
export function testAddon(): TestBinding {
  if (!fs.existsSync(TEST_ADDON)) {
    throw new Error(`${TEST_ADDON} is missing: build it (with the shipped addon) by \`npm run build:native\``);
  }
  loaded ??= require(TEST_ADDON) as TestBinding;
  return loaded;
}
