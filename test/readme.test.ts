// Every command README.md shows in a ```sh block, run as a user would (the compiled CLI, in a folder
// holding small models under the README's file names), checked to exit 0 and print what the README
// says it does. CASES is keyed by the README's own text: a command added to, changed in or removed
// from the README without its case here fails the first two tests.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeNpy } from '../lib/compare/npy';
import { exportWeights } from '../lib/convert';
import { buildMlp, randomNormal, saveModel } from '../lib/onnx';
import { quantizeFile } from '../lib/quantize';
import { writeExampleRepository } from '../lib/serve';
import { CLI, runCli } from './helpers/cli';
import { readmeCommands, shellWords } from './helpers/readme';
import { makeTempDir, removeDir } from './helpers/temp';

const ROOT = path.resolve(__dirname, '..');
const ENV = { ADMIN: 'admin-secret', TOKEN: 'user-secret' };

/** A command of the onnxforge CLI: each variant (default: the README line itself) exits 0 and prints all of `expect`. */
interface CliCase { kind: 'cli'; variants?: string[]; expect: RegExp[] }
/** `onnxforge serve`: runs until ready, prints `expect`, serves `whileServing` (another README command), stops on SIGINT. */
interface ServeCase { kind: 'serve'; variants: string[]; expect: RegExp[]; whileServing?: string }
/** Run inside a serve case, against the server it started. */
interface WhileServingCase { kind: 'while-serving'; expect: RegExp[] }
/** npm commands the CI script runs (.ci/run) or that would take minutes: checked to be what CI runs, or to exist. */
interface CheckCase { kind: 'check'; why: string; check: () => void }
type Case = CliCase | ServeCase | WhileServingCase | CheckCase;

const packageJson = () => JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const ciScript = () => fs.readFileSync(path.join(ROOT, '.ci/run'), 'utf8');
const installScript = () => fs.readFileSync(path.join(ROOT, 'scripts/install.js'), 'utf8');
/** npm's install script is scripts/install.js, which compiles with `npm run build:native`. */
function expectInstallScript(): void {
  expect(packageJson().scripts.install).toBe('node scripts/install.js');
  expect(installScript()).toContain("'run', 'build:native'");
}
/** The npm script builds dist/ and runs `file`, which exists. */
function expectScript(name: string, file: string): void {
  expect(packageJson().scripts[name]).toBe(`npm run build:ts && node ${file}`);
  expect(fs.existsSync(path.join(ROOT, file))).toBe(true);
}
const CURL = `curl -s localhost:8000/v2/models/example/infer -H 'content-type: application/json' -d '{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[0.1,0.2,0.3,0.4]}]}'`;
const SERVE_MODELS = 'npx onnxforge serve models/ --port 8000 --host 0.0.0.0 --memory-budget 4GiB --admin-token "$ADMIN" [--token "$TOKEN"] [--idle-unload 600000] [--max-body 64MiB] [--max-elements 16777216] [--max-inflight 1024] [--headers-timeout 10000] [--request-timeout 60000] [--idle-timeout 5000] [--max-connections 1024] [--max-request-memory 1GiB] [--engine auto|native|ort] [--isolation thread|none|process] [--json]';
const COMPARE_FIGURES = [/against the original \(\d+ (generated|given) sample\(s\)/, /^output +\d\.\d{6} /m];

const CLUSTER_URL = 'redis://:secret@redis.internal:6379';
const CLUSTER_COMMANDS = {
  worker: `npx onnxforge worker --redis ${CLUSTER_URL} --repo models/ [--models mlp,bert] [--concurrency 8] [--name gpu-1]`,
  serve: `npx onnxforge serve --cluster ${CLUSTER_URL} --port 8000`,
  batch: `npx onnxforge batch --redis ${CLUSTER_URL} --model mlp --inputs samples/ -o results/ [--chunk 16]`,
  status: `npx onnxforge cluster status --redis ${CLUSTER_URL} [--json]`,
};

/** A cluster command: it needs a Redis and workers, which test/cluster/ runs it with; here every option it shows must exist. */
function clusterCase(line: string): CheckCase {
  return {
    kind: 'check',
    why: 'needs Redis and workers: test/cluster/*.test.ts runs it against a real redis-server; here its options are checked',
    check: () => {
      const words = line.split(' ').slice(2);
      const command = words.slice(0, words.findIndex((w) => w.startsWith('--') || w.startsWith('[')));
      const help = runCli([...command, '--help']);
      expect(help.status).toBe(0);
      for (const flag of line.match(/--[a-z-]+/g) ?? []) expect({ flag, listed: help.stdout.includes(`${flag} `) }).toEqual({ flag, listed: true });
    },
  };
}

const CASES: Record<string, Case> = {
  'export ONNXRUNTIME_NODE_INSTALL=skip': {
    kind: 'check',
    why: '.ci/run exports it; it is the variable onnxruntime-node\'s install script reads',
    check: () => {
      expect(ciScript()).toMatch(/^export ONNXRUNTIME_NODE_INSTALL=skip$/m);
      expect(fs.readFileSync(path.join(ROOT, 'node_modules/onnxruntime-node/script/install-utils.js'), 'utf8')).toContain('process.env.ONNXRUNTIME_NODE_INSTALL');
    },
  },
  'npm install': { kind: 'check', why: '.ci/run installs with npm ci (npm install from the lock file)', check: () => expect(ciScript()).toMatch(/^npm ci$/m) },
  'npx onnxforge demo': {
    kind: 'cli',
    expect: [/^quantized 6 MatMul nodes to int8 \(dynamic\): /m, /^size [\d.]+ MiB -> [\d.]+ MiB; cosine 0\.99\d+; onnxruntime latency /m],
  },
  'npm test': { kind: 'check', why: '.ci/run runs npm test', check: () => expect(ciScript()).toMatch(/^npm test$/m) },
  'npx onnxforge compare model.onnx model.int8.onnx --dim batch=8 --samples 16': {
    kind: 'cli',
    expect: [/^inputs: 16 sample\(s\), generated from a seed$/m, /^output +0\.99\d+ /m, /^speed-up in onnxruntime: \d+\.\d\dx/m],
  },
  'npx onnxforge compare model.onnx model.int8.onnx --engine native': {
    kind: 'cli',
    expect: [/^output +0\.99\d+ /m, /^B model\.int8\.onnx +native /m, /^speed-up \(native against ort\): \d+\.\d\dx/m],
  },
  'npx onnxforge bench model.onnx --engine ort,native --batch 8': {
    kind: 'cli',
    expect: [/^inputs: input float32\[8, 64\]; 50 timed runs per engine/m, /^ort +\d+\.\d{3} /m, /^native +\d+\.\d{3} /m,
      /^native vs onnxruntime: \d+\.\d\dx at p50$/m, /^native: packed weights [\d.]+ KiB, arena [\d.]+ (KiB|B) per run$/m],
  },
  'npx onnxforge convert model.onnx -o model.fp16.onnx --dtype float16 --keep-io-types --compare': {
    kind: 'cli', expect: [/^float16: 4 tensor\(s\)/m, /casts: 2 inserted/, ...COMPARE_FIGURES],
  },
  'npx onnxforge convert model.onnx -o model.fp16.onnx --dtype float16 --block-ops MatMul --block-nodes /head/Gemm': {
    kind: 'cli', expect: [/kept in float32: 4 node\(s\) .*MatMul 2/],
  },
  'npx onnxforge convert model.onnx -o model.bf16.onnx --dtype bfloat16 --compare': {
    kind: 'cli', expect: [/^bfloat16: 4 tensor\(s\)/m, /compared the result widened back to float32/, ...COMPARE_FIGURES],
  },
  'npx onnxforge convert model.bf16.onnx -o model.back.onnx --dtype float32': { kind: 'cli', expect: [/^float32: 4 tensor\(s\)/m] },
  'npx onnxforge convert model.onnx -o big.onnx --external-data [--external-threshold 1024] [--no-single-file]': {
    kind: 'cli',
    variants: [
      'npx onnxforge convert model.onnx -o big.onnx --external-data --external-threshold 1024 --no-single-file',
      'npx onnxforge convert model.onnx -o big.onnx --external-data',
    ],
    expect: [/^layout: external data, 2 tensor\(s\) in \d file\(s\)/m],
  },
  'npx onnxforge convert big.onnx -o small.onnx --inline': { kind: 'cli', expect: [/^layout: inline \(one \.onnx file\)$/m] },
  'npx onnxforge export-weights model.onnx -o weights.safetensors [--constants] [--metadata format=pt]': {
    kind: 'cli',
    variants: [
      'npx onnxforge export-weights model.onnx -o weights.safetensors',
      'npx onnxforge export-weights model.onnx -o weights.safetensors --constants --metadata format=pt',
    ],
    expect: [/^model\.onnx -> weights\.safetensors: 4 tensor\(s\)/m],
  },
  'npx onnxforge convert model.onnx -o tuned.onnx --weights tuned.safetensors --map names.json': {
    kind: 'cli', expect: [/^weights: 3 tensor\(s\) replaced from tuned\.safetensors .*, 1 ignored/m],
  },
  'npx onnxforge optimize model.onnx -o model.opt.onnx --level basic|extended|all --compare': {
    kind: 'cli',
    variants: ['basic', 'extended', 'all'].map((level) => `npx onnxforge optimize model.onnx -o model.opt.onnx --level ${level} --compare`),
    expect: [/\(onnxruntime level (basic|extended|all)\)/, /^nodes: 5 -> \d/m, ...COMPARE_FIGURES],
  },
  'npx onnxforge quantize model.onnx -o model.int8.onnx --mode dynamic': {
    kind: 'cli',
    expect: [/^dynamic quantization \(qoperator\): 2 node\(s\) quantized \(MatMul 2\), 0 skipped/m, /^opset \d+ kept/m, /^size: .* -> .* \(0\.\d+x\)/m,
      ...COMPARE_FIGURES, /^speed-up in onnxruntime: /m],
  },
  'npx onnxforge quantize model.onnx -o model.qdq.onnx --mode static --calibration samples/ --method percentile': {
    kind: 'cli', expect: [/^static quantization \(qdq\): 3 node\(s\) quantized \(MatMul 2, Add 1\), 1 skipped/m, /^calibration: percentile, 2 sample\(s\)/m, /against the original \(2 given sample\(s\)\)/],
  },
  'npx onnxforge quantize model.onnx -o model.int4.onnx --mode weight-only --bits 4 --block-size 32': {
    kind: 'cli', expect: [/^weight-only quantization \(.*\): 2 node\(s\) quantized/m, /^imports added: com\.microsoft$/m],
  },
  'npx onnxforge prune model.onnx -o pruned.onnx --pattern channel --sparsity 0.5': {
    kind: 'cli', expect: [/channel pruning at sparsity 0\.5 \(layer scope\), 1 channel group\(s\) pruned/, /128 -> 64 channels/, ...COMPARE_FIGURES],
  },
  'npx onnxforge prune model.onnx -o sparse.onnx --pattern 2:4': {
    kind: 'cli', expect: [/2:4 pruning at sparsity 0\.5 \(layer scope\), 1 weight\(s\) pruned/, /fc0\.weight .* 50\.0% +50\.0%/, ...COMPARE_FIGURES],
  },
  "npx onnxforge prune model.onnx -o sparse.onnx --sparsity 0.8 --scope global --exclude 'classifier*' --layer 'fc1*=0.5'": {
    kind: 'cli', expect: [/unstructured pruning at sparsity 0\.8 \(global scope\)/, /^warning: --exclude classifier\* matched no layer$/m],
  },
  'npx onnxforge train model.onnx --data data/ --labels labels.npy -o teacher.onnx --epochs 10': {
    kind: 'cli',
    expect: [/^teacher\.onnx: model\.onnx trained on the labels of "output"$/m, /^training: 80 steps \(10\.0 epochs, batch 32\), adamw/m,
      /^before +\d+\.\d% /m, /^after +\d+\.\d% /m, /^wrote teacher\.onnx$/m],
  },
  'npx onnxforge distill --teacher teacher.onnx --student-from prune:channel=0.5 --data data/ -o student.onnx': {
    kind: 'cli',
    expect: [/^student: channel pruning of 1 channel group\(s\)/m, /^loss on "output": KL at temperature 2 \(weight 1\); teacher outputs computed$/m,
      /^student after +- +\d+\.\d% +0\.\d{4}$/m, /against the original \(4 given sample\(s\); the teacher is the original\)/, /^wrote student\.onnx$/m],
  },
  'npx onnxforge distill --teacher teacher.onnx --student-from prune:unstructured=0.9 --data data/ --labels labels.npy --eval held/ --eval-labels held-labels.npy -o sparse-student.onnx --checkpoint-every 50': {
    kind: 'cli',
    expect: [/cross-entropy with labels \(weight 0\.50\)/, /1 sparse weight\(s\) kept sparse/, /^held-out samples \(128\):$/m,
      /^student after +\d+\.\d% +\d+\.\d% +0\.\d{4}$/m],
  },
  'npx onnxforge serve': {
    kind: 'serve',
    // Port 0 (a free port) instead of 8000, so that runs never collide; the curl line then goes to that port.
    variants: ['npx onnxforge serve --port 0'],
    expect: [/^ready: http:\/\/127\.0\.0\.1:\d+ /m, /^example +1 +READY/m, /^ {2}curl -s http:\/\/127\.0\.0\.1:\d+\/v2\/models\/example\/infer /m],
    whileServing: CURL,
  },
  [CURL]: { kind: 'while-serving', expect: [/^\{"model_name":"example","model_version":"1","outputs":\[\{"name":"output","datatype":"FP32","shape":\[1,3\]/] },
  [SERVE_MODELS]: {
    kind: 'serve',
    // Port 0 and the loopback address: a test listens on nothing reachable from outside.
    variants: [
      'npx onnxforge serve models/ --port 0 --host 127.0.0.1 --memory-budget 4GiB --admin-token "$ADMIN"',
      'npx onnxforge serve models/ --port 0 --host 127.0.0.1 --memory-budget 4GiB --admin-token "$ADMIN" --token "$TOKEN" --idle-unload 600000 --max-body 64MiB --max-elements 16777216 --max-inflight 1024 --headers-timeout 10000 --request-timeout 60000 --idle-timeout 5000 --max-connections 1024 --max-request-memory 1GiB --engine native --isolation none --json',
    ],
    expect: [/ready: http:\/\/127\.0\.0\.1:\d+ \(memory budget 4\.00 GiB\)|"memoryBudgetBytes": 4294967296/, /example +1 +READY|"state": "READY"/],
  },
  'npm run build:native': {
    kind: 'check', why: 'in a clone, npm ci runs the install script, which runs this command', check: expectInstallScript,
  },
  'npm rebuild onnxforge': {
    kind: 'check', why: 'in an installed project: test/install/prebuilt-install.test.ts runs it; it runs the install script', check: expectInstallScript,
  },
  'ONNXFORGE_BUILD_FROM_SOURCE=1 npm rebuild onnxforge': {
    kind: 'check', why: 'in an installed project: test/install/prebuilt-install.test.ts forces the build both ways',
    check: () => expect(installScript()).toMatch(/process\.env\.ONNXFORGE_BUILD_FROM_SOURCE[\s\S]*process\.env\.npm_config_build_from_source|npm_config_build_from_source[\s\S]*ONNXFORGE_BUILD_FROM_SOURCE/),
  },
  'npx onnxforge doctor [--json]': {
    kind: 'cli',
    variants: ['npx onnxforge doctor', 'npx onnxforge doctor --json'],
    expect: [/^addon: .* \(local build\)$|"source": "local build"/m, /^onnxruntime-node \d|"onnxruntime": \{/m],
  },
  'npm run prebuild': {
    kind: 'check', why: 'a release build takes minutes: test/install and test/native/cross-arm64 run its script',
    check: () => expectScript('prebuild', 'dist/scripts/prebuild.js'),
  },
  'npm run prebuild -- --target linux-arm64-gnu': {
    kind: 'check', why: 'test/native/cross-arm64.test.ts runs it', check: () => expectScript('prebuild', 'dist/scripts/prebuild.js'),
  },
  'npm run pack:main': { kind: 'check', why: 'test/install runs its script', check: () => expectScript('pack:main', 'dist/scripts/pack-main.js') },
  'npx onnxforge quantize model.onnx -o model.gptq.onnx --mode weight-only --bits 4 --algorithm gptq --calibration samples/': {
    kind: 'cli', expect: [/^weight-only quantization \(int4\): 2 node\(s\) quantized/m, /^GPTQ statistics: 2 sample\(s\)/m, /^GPTQ layer-output error: [\d.]+x round-to-nearest's/m],
  },
  'npx onnxforge quantize model.onnx -o model.auto.onnx --mode auto --calibration samples/ --min-cosine 0.995': {
    kind: 'cli', expect: [/^auto \(goal speed, faster means >= 1\.05x, budget cosine >= 0\.995, 2 given sample\(s\), seed 0\):/m, /^chosen: /m, /static int8 per-channel minmax/],
  },
  'npx onnxforge compare model.onnx model.int8.onnx --eval samples/ --eval-labels samples-labels.npy': {
    kind: 'cli', expect: [/^top-1 accuracy on 4 labelled row\(s\) of output: A model\.onnx [\d.]+%, B model\.int8\.onnx [\d.]+% \(drop -?[\d.]+ points\)$/m],
  },
  'npm run build:ts': { kind: 'check', why: 'npm test runs it first', check: () => expect(packageJson().scripts.test).toMatch(/^npm run build:ts && /) },
  [CLUSTER_COMMANDS.worker]: clusterCase(CLUSTER_COMMANDS.worker),
  [CLUSTER_COMMANDS.serve]: clusterCase(CLUSTER_COMMANDS.serve),
  [CLUSTER_COMMANDS.batch]: clusterCase(CLUSTER_COMMANDS.batch),
  [CLUSTER_COMMANDS.status]: clusterCase(CLUSTER_COMMANDS.status),
  'npm run bench -- engine engine-conv float int8 sparse quantize prune train serve cuda cluster cluster-faults': {
    kind: 'check',
    why: 'the suites take minutes: each named suite exists and has its results committed',
    check: () => {
      const r = spawnSync(process.execPath, [path.join(ROOT, 'dist/bench/main.js'), 'no-such-suite'], { encoding: 'utf8' });
      const available = /available: (.*)$/m.exec(r.stderr)?.[1].split(', ') ?? [];
      for (const suite of ['engine', 'engine-conv', 'float', 'int8', 'sparse', 'quantize', 'prune', 'train', 'serve', 'cuda', 'cluster', 'cluster-faults']) {
        expect(available).toContain(suite);
        for (const ext of ['json', 'md']) expect(fs.existsSync(path.join(ROOT, 'bench/results', `${suite}.${ext}`))).toBe(true);
      }
    },
  },
};

let dir: string;
beforeAll(async () => {
  dir = makeTempDir('onnxforge-readme-');
  const file = (name: string) => path.join(dir, name);
  saveModel(buildMlp({ inputSize: 64, hidden: [128], outputSize: 16, seed: 1 }), file('model.onnx'));
  await quantizeFile(file('model.onnx'), file('model.int8.onnx'), { mode: 'dynamic', verify: false });
  for (let i = 0; i < 2; i++) {
    fs.mkdirSync(file(`samples/${i}`), { recursive: true });
    const data = Float32Array.from({ length: 2 * 64 }, (_, j) => Math.sin(i + j * 0.1));
    fs.writeFileSync(file(`samples/${i}/input.npy`), encodeNpy({ type: 'float32', dims: [2, 64], data }));
  }
  // One class label per output row of samples/ (2 samples of batch 2).
  fs.writeFileSync(file('samples-labels.npy'), encodeNpy({ type: 'int64', dims: [4], data: BigInt64Array.of(3n, 7n, 3n, 0n) }));
  exportWeights(buildMlp({ inputSize: 64, hidden: [128], outputSize: 16, seed: 2 }), file('tuned.safetensors'));
  // Training data: inputs labelled by the largest of 16 fixed linear scores.
  const scores = randomNormal(64 * 16, 3);
  for (const [folder, labels, count, seed] of [['data', 'labels.npy', 256, 4], ['held', 'held-labels.npy', 128, 5]] as const) {
    const x = randomNormal(count * 64, seed);
    const y = BigInt64Array.from({ length: count }, (_, r) => {
      const score = (c: number) => Array.from({ length: 64 }, (_, k) => x[r * 64 + k] * scores[k * 16 + c]).reduce((a, b) => a + b, 0);
      return BigInt(Array.from({ length: 16 }, (_, c) => c).reduce((best, c) => (score(c) > score(best) ? c : best), 0));
    });
    fs.mkdirSync(file(folder));
    fs.writeFileSync(file(`${folder}/input.npy`), encodeNpy({ type: 'float32', dims: [count, 64], data: x }));
    fs.writeFileSync(file(labels), encodeNpy({ type: 'int64', dims: [count], data: y }));
  }
  fs.writeFileSync(file('names.json'), JSON.stringify({ 'fc0.weight': 'fc0.weight', 'fc0.bias': 'fc0.bias', 'fc1.weight': 'fc1.weight', 'fc1.bias': null }));
  writeExampleRepository(file('models'));
});
afterAll(() => removeDir(dir));

function expectAll(output: string, patterns: RegExp[]): void {
  for (const pattern of patterns) expect(output).toMatch(pattern);
}

function onnxforgeArgs(line: string): string[] {
  const words = shellWords(line, ENV);
  expect(words.slice(0, 2)).toEqual(['npx', 'onnxforge']);
  return words.slice(2);
}

/** Runs `line` to its end in `dir`. */
function runToEnd(line: string, patterns: RegExp[]): void {
  const r = runCli(onnxforgeArgs(line), {}, dir);
  expect({ line, status: r.status, stderr: r.stderr }).toEqual({ line, status: 0, stderr: expect.any(String) });
  expectAll(r.stdout, patterns);
}

/** Starts `line` (a serve command), waits for its ready message, runs `whileServing`, then stops it with SIGINT. */
async function serve(line: string, patterns: RegExp[], whileServing?: (url: string) => Promise<void>): Promise<void> {
  const child = spawn(process.execPath, [CLI, ...onnxforgeArgs(line)], { cwd: dir, env: { ...process.env } });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const ready = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const url = /"url": "(http:[^"]+)"/.exec(stdout)?.[1] ?? /^ready: (http:\S+) /m.exec(stdout)?.[1];
      if (url && /\n$/.test(stdout)) resolve(url);
    });
    void exited.then((code) => reject(new Error(`exited with ${code} before it was ready: ${stderr}`)));
  });
  try {
    expectAll(stdout, patterns);
    await whileServing?.(ready);
  } finally {
    child.kill('SIGINT');
  }
  expect(await exited).toBe(0);
  expect(stderr).toMatch(/shutting down: answering requests in flight/);
}

function curl(line: string, url: string): Promise<string> {
  const args = shellWords(line.replace('localhost:8000', url.replace(/^http:\/\//, '')));
  expect(args[0]).toBe('curl');
  return new Promise((resolve, reject) => {
    const child = spawn('curl', args.slice(1));
    let out = '';
    child.stdout.on('data', (chunk) => { out += chunk; });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`curl exited with ${code}`))));
  });
}

const commands = readmeCommands();

test('every command in the README has a case here', () => {
  expect(commands.filter((c) => !(c in CASES))).toEqual([]);
});

test('every case here is a command in the README', () => {
  expect(Object.keys(CASES).filter((c) => !commands.includes(c))).toEqual([]);
});

describe('README commands, in README order', () => {
  for (const command of commands.filter((c) => c in CASES)) {
    const c = CASES[command];
    if (c.kind === 'while-serving') continue;
    const title = c.kind === 'check' ? `${command} (${c.why})` : command;
    test(title, async () => {
      if (c.kind === 'check') return c.check();
      for (const line of c.variants ?? [command]) {
        if (c.kind === 'cli') {
          runToEnd(line, c.expect);
          continue;
        }
        const after = c.whileServing ? CASES[c.whileServing] : undefined;
        await serve(line, c.expect, after && after.kind === 'while-serving'
          ? async (url) => expectAll(await curl(c.whileServing!, url), after.expect)
          : undefined);
      }
    });
  }
});
