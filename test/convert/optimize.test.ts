// optimizeModel: onnxruntime's optimizer at each level, saved, reloaded, and compared with the original.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { optimizeModel } from '../../lib/convert';
import { buildTransformerBlock, loadModel, saveModel } from '../../lib/onnx';
import { compareModels } from '../../lib/compare/compare';
import { makeTempDir, removeDir } from '../helpers/temp';
import { REAL, realModelsAbsent } from '../helpers/real-models';
import { testWhen } from '../helpers/skip';
import { minCosine, realSamples } from './helpers';

let dir: string;
beforeEach(() => { dir = makeTempDir('onnxforge-optimize-'); });
afterEach(() => removeDir(dir));

test.each(['basic', 'extended', 'all'] as const)('transformer block at level %s: fewer nodes, same outputs', async (level) => {
  const input = path.join(dir, 'block.onnx');
  saveModel(buildTransformerBlock({ seq: 4, hidden: 16, heads: 2, ffn: 32 }), input);
  const output = path.join(dir, `block-${level}.onnx`);
  const report = await optimizeModel(input, output, { level });
  expect(report.output).toBe(fs.realpathSync(output));
  expect(report.nodesAfter).toBeLessThan(report.nodesBefore);
  if (level !== 'basic') expect(Object.keys(report.opsAfter).some((op) => op.startsWith('com.microsoft.'))).toBe(true);
  const compare = await compareModels(input, output, { latencyRuns: 0, sampleCount: 2 });
  expect(minCosine(compare)).toBeGreaterThan(0.99999);
  expect(fs.readdirSync(dir).sort()).toEqual(['block.onnx', `block-${level}.onnx`].sort());
});

testWhen(realModelsAbsent(REAL.cls), 'PP-OCR classifier: BatchNormalization folds into Conv', async () => {
  const output = path.join(dir, 'cls.onnx');
  const report = await optimizeModel(REAL.cls, output, { level: 'extended' });
  expect(report.opsBefore.BatchNormalization).toBe(35);
  expect(report.opsAfter.BatchNormalization ?? 0).toBe(0);
  const compare = await compareModels(REAL.cls, output, { samples: realSamples('cls'), latencyRuns: 0 });
  expect(minCosine(compare)).toBeGreaterThan(0.99999);
});

testWhen(realModelsAbsent(REAL.vad), 'silero VAD with external data: initializer names onnxruntime repeats are repaired so it loads again', async () => {
  const output = path.join(dir, 'vad.onnx');
  const report = await optimizeModel(REAL.vad, output, { level: 'extended', externalData: true });
  // onnxruntime writes If-body initializers under names the main graph also uses; afterwards every name is unique.
  expect(report.renamedInitializers).toBeGreaterThan(0);
  const names = loadModel(output).graphs().flatMap((g) => g.graph.initializer.map((t) => t.name));
  expect(new Set(names).size).toBe(names.length);
  expect(report.files.map((f) => path.basename(f))).toEqual(['vad.onnx', 'vad.onnx.data']);
  expect(loadModel(output).graphs().length).toBeGreaterThan(10);
  const compare = await compareModels(REAL.vad, output, { samples: realSamples('vad'), latencyRuns: 0 });
  expect(minCosine(compare)).toBeGreaterThan(0.99999);
});

test('an unknown level is refused', async () => {
  await expect(optimizeModel(REAL.cls, path.join(dir, 'x.onnx'), { level: 'max' as never })).rejects.toThrow(/basic, extended, all/);
});
