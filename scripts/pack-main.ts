// npm run pack:main [-- --out DIR]: writes the publishable main package, npm/onnxforge/: the files
// `npm pack` takes from this folder, with a package.json that lists every platform package as an
// optional dependency at exactly this version (npm installs the one that matches the machine).
// The repository's own package.json cannot list them: `npm ci` refuses a lock file that lacks
// them, and the lock file can only hold them once they are published.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { packageRoot } from '../lib/package-info';
import { PLATFORM_TARGETS, platformPackageName } from '../lib/platform-package';

const ROOT = packageRoot();
/** The scripts a user's install needs; the rest are for working on onnxforge. */
const PUBLISHED_SCRIPTS = ['install', 'build:native'];

function fail(message: string): never {
  process.stderr.write(`pack:main: ${message}\n`);
  process.exit(1);
}

function packedFiles(): string[] {
  const npm = process.env.npm_execpath;
  const args = ['pack', '--dry-run', '--json', '--ignore-scripts'];
  const child = npm
    ? spawnSync(process.execPath, [npm, ...args], { cwd: ROOT, encoding: 'utf8' })
    : spawnSync('npm', args, { cwd: ROOT, encoding: 'utf8', shell: process.platform === 'win32' });
  if (child.status !== 0) fail(`npm pack --dry-run failed: ${child.stderr}`);
  const [result] = JSON.parse(child.stdout) as { files: { path: string }[] }[];
  return result.files.map((f) => f.path);
}

function main(): void {
  const argv = process.argv.slice(2);
  if (argv.length !== 0 && !(argv.length === 2 && argv[0] === '--out')) fail('usage: npm run pack:main [-- --out DIR]');
  const out = path.join(path.resolve(argv[1] ?? path.join(ROOT, 'npm')), 'onnxforge');
  if (!fs.existsSync(path.join(ROOT, 'dist', 'lib', 'index.js'))) fail('dist/ is not built: run `npm run build:ts` first');
  fs.rmSync(out, { recursive: true, force: true });
  for (const file of packedFiles()) {
    fs.mkdirSync(path.dirname(path.join(out, file)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, file), path.join(out, file));
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown> & {
    version: string; scripts: Record<string, string>;
  };
  delete manifest.devDependencies;
  delete manifest.jest;
  manifest.scripts = Object.fromEntries(PUBLISHED_SCRIPTS.map((name) => [name, manifest.scripts[name]]));
  manifest.optionalDependencies = Object.fromEntries(PLATFORM_TARGETS.map((t) => [platformPackageName(t), manifest.version]));
  fs.writeFileSync(path.join(out, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  process.stdout.write(`${out}: onnxforge ${manifest.version} with optional dependencies ${Object.keys(manifest.optionalDependencies as object).join(', ')}\n`);
}

main();
