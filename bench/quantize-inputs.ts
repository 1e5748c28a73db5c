// Realistic-looking inputs for the real models, generated deterministically: random noise drives
// PaddleOCR's detector to an all-zero output (no text), which would make accuracy figures meaningless.
import type { Feeds } from '../lib/engine/tensor';
import { createRandom } from '../lib/onnx/random';

export interface TextImageOptions {
  height: number;
  width: number;
  /** 'imagenet' (PP-OCR det: mean/std per channel) or 'symmetric' (rec/cls: x/127.5 - 1). */
  normalize: 'imagenet' | 'symmetric';
  seed?: number;
}

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

/** A 5x7 bitmap font (rows top to bottom, 5 bits each, leftmost pixel in the high bit). */
const FONT: number[][] = [
  [14, 17, 17, 31, 17, 17, 17], [30, 17, 17, 30, 17, 17, 30], [14, 17, 16, 16, 16, 17, 14], [30, 17, 17, 17, 17, 17, 30],
  [31, 16, 16, 30, 16, 16, 31], [31, 16, 16, 30, 16, 16, 16], [14, 17, 16, 23, 17, 17, 15], [17, 17, 17, 31, 17, 17, 17],
  [14, 4, 4, 4, 4, 4, 14], [16, 16, 16, 16, 16, 16, 31], [17, 27, 21, 21, 17, 17, 17], [17, 25, 21, 19, 17, 17, 17],
  [14, 17, 17, 17, 17, 17, 14], [30, 17, 17, 30, 16, 16, 16], [30, 17, 17, 30, 20, 18, 17], [15, 16, 16, 14, 1, 1, 30],
  [31, 4, 4, 4, 4, 4, 4], [17, 17, 17, 17, 17, 17, 14], [17, 17, 17, 17, 17, 10, 4], [17, 17, 10, 4, 10, 17, 17],
  [14, 17, 19, 21, 25, 17, 14], [4, 12, 4, 4, 4, 4, 14], [14, 17, 1, 2, 4, 8, 31], [31, 2, 4, 2, 1, 17, 14],
];

/**
 * Lines of dark bitmap-font text on a light, slightly uneven background: [1, 3, H, W]. One line
 * fills a short crop (rec/cls inputs); taller images hold several lines (det inputs).
 */
export function syntheticTextImage(options: TextImageOptions): Float32Array {
  const { height, width, normalize, seed = 0 } = options;
  const next = createRandom(seed + 1);
  const gray = new Float32Array(height * width);
  for (let i = 0; i < gray.length; i++) gray[i] = 0.88 + 0.08 * next();
  const scale = height <= 64 ? Math.max(1, Math.min(5, Math.floor((height - 8) / 7))) : 3;
  const lineHeight = 11 * scale;
  for (let top = height <= 64 ? Math.floor((height - 7 * scale) / 2) : 2 * scale; top + 7 * scale <= height; top += lineHeight) {
    let x = 2 * scale + Math.floor(next() * 4 * scale);
    while (x + 5 * scale < width) {
      if (next() < 0.15) {
        x += 4 * scale; // a space between words
        continue;
      }
      const glyph = FONT[Math.floor(next() * FONT.length)];
      const ink = 0.05 + 0.15 * next();
      for (let r = 0; r < 7; r++) {
        for (let c = 0; c < 5; c++) {
          if (!(glyph[r] & (16 >> c))) continue;
          for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) gray[(top + r * scale + dy) * width + x + c * scale + dx] = ink;
        }
      }
      x += 6 * scale;
    }
  }
  const out = new Float32Array(3 * height * width);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < gray.length; i++) {
      out[c * gray.length + i] = normalize === 'imagenet' ? (gray[i] - MEAN[c]) / STD[c] : gray[i] * 2 - 1;
    }
  }
  return out;
}

/** OCR model feeds: input "x" [1, 3, H, W]. */
export function textImageFeeds(options: TextImageOptions): Feeds {
  return { x: { type: 'float32', dims: [1, 3, options.height, options.width], data: syntheticTextImage(options) } };
}

/** Speech-like audio: voiced harmonics under a syllable envelope plus a little noise. */
export function syntheticSpeech(samples: number, sampleRate: number, seed = 0): Float32Array {
  const next = createRandom(seed + 7);
  const pitch = 100 + 120 * next();
  const out = new Float32Array(samples);
  for (let i = 0; i < samples; i++) {
    const t = i / sampleRate;
    const envelope = 0.5 + 0.5 * Math.sin(2 * Math.PI * 4 * t + seed);
    let v = 0;
    for (let h = 1; h <= 5; h++) v += Math.sin(2 * Math.PI * pitch * h * t) / h;
    out[i] = 0.25 * envelope * v + 0.01 * (next() * 2 - 1);
  }
  return out;
}

/** Silero VAD feeds for one 512-sample chunk at 16 kHz with a zero state. */
export function sileroFeeds(seed = 0): Feeds {
  return {
    input: { type: 'float32', dims: [1, 512], data: syntheticSpeech(512, 16000, seed) },
    sr: { type: 'int64', dims: [], data: BigInt64Array.of(16000n) },
    h: { type: 'float32', dims: [2, 1, 64], data: new Float32Array(128) },
    c: { type: 'float32', dims: [2, 1, 64], data: new Float32Array(128) },
  };
}
