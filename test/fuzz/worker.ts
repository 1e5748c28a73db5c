// Runs fuzz cases in a child process (compiled to dist/test/fuzz/worker.js), so that a crash kills
// only this process and the parent names the case that was running. Protocol: one "FUZZ {json}" line
// on stdout when a case starts and one when it ends; a "done" line after the last case.
// argv: <model|addon> <slice|full> <first case index> <work folder>
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { NativeEngine } from '../../lib/engine/native/native-engine';
import { inspectModel } from '../../lib/inspect/inspect';
import { loadModel, saveModel } from '../../lib/onnx';
import { addonCases } from './addon-corpus';
import { modelCases, type ModelCase } from './model-corpus';
import { caseCounts, sliceOf, type CaseOutcome, type FuzzMode } from './protocol';

function emit(message: object): void {
  fs.writeSync(1, `FUZZ ${JSON.stringify(message)}\n`);
}

function describe(err: unknown): { errorName: string; message: string } {
  if (err instanceof Error) return { errorName: err.constructor.name, message: err.message };
  return { errorName: typeof err, message: String(err) };
}

/** Files under `dir`, relative, folders walked. */
function listFiles(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => !e.isDirectory())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

/** Load, inspect, save, and open the saved file in onnxruntime and in the native engine: the path a CLI user's model takes. */
async function runModelCase(c: ModelCase, dir: string): Promise<CaseOutcome> {
  fs.mkdirSync(path.join(dir, 'out'), { recursive: true });
  const input = path.join(dir, 'model.onnx');
  fs.writeFileSync(input, c.model);
  for (const [name, bytes] of Object.entries(c.data)) fs.writeFileSync(path.join(dir, name), bytes);
  const before = listFiles(dir);
  const output = path.join(dir, 'out', 'out.onnx');
  let stage = 'load';
  let written: string[] = [];
  let outcome: CaseOutcome;
  try {
    const model = loadModel(input);
    stage = 'inspect';
    inspectModel(model);
    stage = 'save';
    const saved = saveModel(model, output);
    written = [saved.path, ...saved.dataFiles].map((f) => path.relative(fs.realpathSync(dir), fs.realpathSync(f)));
    stage = 'onnxruntime';
    const session = await ort.InferenceSession.create(output);
    await session.release();
    stage = 'native engine';
    const native = await new NativeEngine().load(output);
    await native.dispose();
    outcome = { outcome: 'ok' };
  } catch (err) {
    outcome = { outcome: 'error', stage, ...describe(err) };
  }
  const left = listFiles(dir).filter((f) => !before.includes(f) && !written.includes(f));
  if (left.length > 0) outcome.leftovers = left;
  fs.rmSync(dir, { recursive: true, force: true });
  return outcome;
}

async function runAddonCase(run: () => unknown): Promise<CaseOutcome> {
  try {
    await run();
    return { outcome: 'ok' };
  } catch (err) {
    return { outcome: 'error', stage: 'call', ...describe(err) };
  }
}

async function main(): Promise<void> {
  const [kind, mode, first, work] = process.argv.slice(2) as ['model' | 'addon', FuzzMode, string, string];
  const counts = caseCounts(mode);
  if (kind === 'model') {
    const cases = modelCases(counts.seedsPerMutation);
    for (let i = Number(first); i < cases.length; i++) {
      emit({ i, id: cases[i].id, start: true });
      emit({ i, id: cases[i].id, ...(await runModelCase(cases[i], path.join(work, `case-${i}`))) });
    }
    emit({ done: true, total: cases.length });
  } else {
    const cases = sliceOf(addonCases(), counts.addonEvery);
    for (let i = Number(first); i < cases.length; i++) {
      emit({ i, id: cases[i].id, start: true });
      emit({ i, id: cases[i].id, ...(await runAddonCase(cases[i].run)) });
    }
    emit({ done: true, total: cases.length });
  }
}

main().catch((err) => {
  process.stderr.write(`fuzz worker failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(3);
});
