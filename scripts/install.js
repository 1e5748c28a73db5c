#!/usr/bin/env node
// onnxforge's npm install script. It compiles the addon (`npm run build:native`) only when:
//  - asked to: `npm install --build-from-source` (npm passes it as npm_config_build_from_source)
//    or ONNXFORGE_BUILD_FROM_SOURCE=1;
//  - in a clone of the repository: the tests need the test addon, which no package ships, and a
//    developer's changes must be compiled (dist/ does not exist yet there either);
//  - no prebuilt addon loads here (the loader's own search: ONNXFORGE_BINARY, the platform
//    package, prebuilds/; each tried in a child process).
// Otherwise it names the prebuilt addon that will be used and compiles nothing.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');

function isSet(value) {
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}

/** Why the addon must be compiled, or null when a prebuilt one loads. */
function reasonToCompile() {
  if (isSet(process.env.npm_config_build_from_source)) return 'asked to (--build-from-source)';
  if (isSet(process.env.ONNXFORGE_BUILD_FROM_SOURCE)) return 'asked to (ONNXFORGE_BUILD_FROM_SOURCE)';
  if (fs.existsSync(path.join(root, '.git'))) return 'a clone of the repository';
  const { found, failures } = require(path.join(root, 'dist', 'lib', 'native.js')).findPrebuiltBinary();
  if (found) {
    console.log(`onnxforge: using the prebuilt addon from the ${found.source} (${found.file}); nothing to compile`);
    return null;
  }
  return `no prebuilt addon loads here: ${failures.join('; ')}`;
}

const reason = reasonToCompile();
if (reason !== null) {
  console.log(`onnxforge: compiling the native addon (${reason})`);
  const npm = process.env.npm_execpath;
  const child = npm
    ? spawnSync(process.execPath, [npm, 'run', 'build:native'], { cwd: root, stdio: 'inherit' })
    : spawnSync('npm', ['run', 'build:native'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (child.status !== 0) {
    console.error(
      'onnxforge: compiling the native addon failed (see above); it needs cmake >= 3.18 and a C++17 compiler ' +
        '(the README\'s Install section lists the platforms with a prebuilt addon).',
    );
    process.exit(child.status ?? 1);
  }
}
