// Drives the fuzz worker: reads its case reports; when it dies (a signal: a crash) or a case outlives
// the safety-net timeout (a hang), records that case and starts a new worker at the next one.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import type { CaseResult, FuzzMode } from './protocol';

const ROOT = path.resolve(__dirname, '../..');
const WORKER = path.join(path.basename(ROOT) === 'dist' ? ROOT : path.join(ROOT, 'dist'), 'test/fuzz/worker.js');

interface WorkerRun {
  results: CaseResult[];
  /** The case that was running when the worker stopped early. */
  unfinished: { i: number; id: string; how: 'crash' | 'hang' | 'exit'; detail: string } | undefined;
  total: number | undefined;
}

function runWorker(kind: 'model' | 'addon', mode: FuzzMode, first: number, work: string, caseTimeoutMs: number): Promise<WorkerRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [WORKER, kind, mode, String(first), work], { stdio: ['ignore', 'pipe', 'pipe'] });
    const run: WorkerRun = { results: [], unfinished: undefined, total: undefined };
    let current: { i: number; id: string } | undefined;
    let timer: NodeJS.Timeout | undefined;
    let hung = false;
    let buffered = '';
    let stderr = '';
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        hung = true;
        child.kill('SIGKILL');
      }, caseTimeoutMs);
    };
    arm(); // start-up counts as a case
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-4000);
    });
    child.stdout.on('data', (d) => {
      buffered += d;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('FUZZ ')) continue;
        const message = JSON.parse(line.slice(5));
        if (message.done) run.total = message.total;
        else if (message.start) current = { i: message.i, id: message.id };
        else {
          run.results.push(message);
          current = undefined;
        }
        arm();
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (run.total === undefined) {
        const at = current ?? { i: first + run.results.length, id: '(between cases)' };
        const how = hung ? 'hang' : signal ? 'crash' : 'exit';
        run.unfinished = { ...at, how, detail: `${signal ?? `exit code ${code}`}; stderr: ${stderr.trim().split('\n').slice(-3).join(' | ')}` };
      }
      resolve(run);
    });
  });
}

/** Every case of the corpus, each with its outcome; a crash or hang ends only its own case. */
export async function runCorpus(kind: 'model' | 'addon', mode: FuzzMode, work: string, caseTimeoutMs = 120000): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  let first = 0;
  for (;;) {
    const run = await runWorker(kind, mode, first, work, caseTimeoutMs);
    results.push(...run.results);
    if (!run.unfinished) return results;
    const { i, id, how, detail } = run.unfinished;
    if (run.results.length === 0 && id === '(between cases)') throw new Error(`the fuzz worker did not start: ${detail}`);
    results.push({ i, id, outcome: how, message: detail });
    first = i + 1;
  }
}
