// The shipped addon exports exactly the public API that binding.d.ts declares (NativeBinding):
// test hooks live in the test addon only, and lib/kernels.ts hands out the same names.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import { kernels } from '../../lib/kernels';
import { ADDON, ROOT, TEST_ADDON } from '../helpers/test-addon';

/** The member names an interface of binding.d.ts declares (overloads once). */
function declaredMembers(name: string): string[] {
  const file = ts.createSourceFile('binding.d.ts', fs.readFileSync(path.join(ROOT, 'binding.d.ts'), 'utf8'), ts.ScriptTarget.Latest);
  const declaration = file.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === name);
  if (!declaration) throw new Error(`binding.d.ts declares no interface ${name}`);
  return [...new Set(declaration.members.map((m) => (m.name as ts.Identifier).text))].sort();
}

const publicApi = declaredMembers('NativeBinding');

/** An addon's export names as a fresh process sees them (a loader may add properties to a loaded one). */
function exportsOf(addon: string): string[] {
  const r = spawnSync(process.execPath, ['-e', 'console.log(JSON.stringify(Object.keys(require(process.argv[1]))))', addon], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return (JSON.parse(r.stdout) as string[]).sort();
}

describe('addon exports', () => {
  test('the shipped addon exports exactly NativeBinding', () => {
    expect(exportsOf(ADDON)).toEqual(publicApi);
    expect(publicApi).not.toContain('_int8Internals');
  });

  test('the test addon exports NativeBinding plus the hooks of TestBinding', () => {
    expect(declaredMembers('TestBinding')).toEqual(['_cudaInternals', '_floatInternals', '_int8Internals']);
    expect(exportsOf(TEST_ADDON)).toEqual([...publicApi, ...declaredMembers('TestBinding')].sort());
  });

  test('kernels has one function per function of NativeBinding, and the handle classes', () => {
    expect(Object.keys(kernels).sort()).toEqual(publicApi);
    expect(Object.isFrozen(kernels)).toBe(true);
    const addon = require(ADDON) as Record<string, unknown>;
    for (const name of publicApi) expect([name, typeof (kernels as unknown as Record<string, unknown>)[name]]).toEqual([name, typeof addon[name]]);
    expect(kernels.packInt8Weights(new Int8Array(4), 2, 2)).toBeInstanceOf(kernels.PackedInt8);
  });
});
