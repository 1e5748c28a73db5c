// Shared by the conversion tests: the real models from npm packages with sensible inputs, and checks
// that a converted graph is what it should be.
import { compareModels, type CompareReport } from '../../lib/compare/compare';
import type { Feeds } from '../../lib/engine/tensor';
import { DataType, getAttribute, serializeModel, type Model } from '../../lib/onnx';
import { inferElemTypes } from '../../lib/convert';
import { REAL } from '../helpers/real-models';

function lcg(seed: number): () => number {
  let s = seed + 1;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

/**
 * A synthetic page: white background with dark word-shaped boxes on text lines, normalized like
 * PaddleOCR's detector input. Noise inputs make the detector output ~0 everywhere, which says nothing.
 */
export function textPage(height: number, width: number, seed: number): Float32Array {
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const gray = new Float32Array(height * width).fill(1);
  const random = lcg(seed);
  const lines = Math.max(1, Math.floor(height / 48));
  for (let line = 0; line < lines; line++) {
    const top = Math.floor(8 + (line * (height - 16)) / lines);
    const thickness = 8 + Math.floor(random() * 8);
    for (let x = 8; x < width - 16;) {
      const word = 8 + Math.floor(random() * 40);
      for (let y = top; y < Math.min(height, top + thickness); y++) {
        for (let xx = x; xx < Math.min(width - 8, x + word); xx++) gray[y * width + xx] = random() < 0.7 ? 0.05 : 0.3;
      }
      x += word + 6 + Math.floor(random() * 10);
    }
  }
  const out = new Float32Array(3 * height * width);
  for (let c = 0; c < 3; c++) for (let i = 0; i < height * width; i++) out[c * height * width + i] = (gray[i] - mean[c]) / std[c];
  return out;
}

/** Inputs for each real model: silero needs sr=16000; the OCR models get text-like images. */
export function realSamples(name: keyof typeof REAL): Feeds[] {
  const image = (h: number, w: number, seed: number): Feeds => ({ x: { type: 'float32', dims: [1, 3, h, w], data: textPage(h, w, seed) } });
  switch (name) {
    case 'vad': return [0, 1].map((seed) => {
      const random = lcg(seed);
      return {
        input: { type: 'float32', dims: [1, 512], data: Float32Array.from({ length: 512 }, (_, i) => 0.3 * Math.sin(i * 0.05 * (seed + 1)) + 0.05 * (random() - 0.5)) },
        sr: { type: 'int64', dims: [], data: BigInt64Array.of(16000n) },
        h: { type: 'float32', dims: [2, 1, 64], data: new Float32Array(128) },
        c: { type: 'float32', dims: [2, 1, 64], data: new Float32Array(128) },
      };
    });
    case 'det': return [image(320, 320, 0)];
    case 'rec': return [image(48, 320, 0), image(48, 320, 1)];
    case 'cls': return [image(48, 192, 0), image(48, 192, 1)];
  }
}

export async function compareInMemory(a: Model, b: Model, samples: Feeds[]): Promise<CompareReport> {
  return compareModels(serializeModel(a), serializeModel(b), { samples, latencyRuns: 0 });
}

export function minCosine(report: CompareReport): number {
  return Math.min(...report.outputs.map((o) => o.cosine ?? 1));
}

export function castNodes(model: Model) {
  return model.nodes().filter((r) => r.node.opType === 'Cast');
}

/** Casts that change nothing (to the type they read) or undo a lossless widening, as "input -> output" labels. */
export function redundantCasts(model: Model): string[] {
  const types = inferElemTypes(model);
  const producers = new Map(castNodes(model).map((r) => [r.node.output[0], r.node]));
  const widening = (from: number | undefined, to: number) => (from === DataType.FLOAT16 || from === DataType.BFLOAT16) && to === DataType.FLOAT;
  const outputs = new Set(model.graphs().flatMap((g) => g.graph.output.map((o) => o.name)));
  return castNodes(model).filter(({ node }) => {
    if (outputs.has(node.output[0])) return false;
    const to = getAttribute(node, 'to') as number;
    if (types.get(node.input[0]) === to) return true;
    const inner = producers.get(node.input[0]);
    return inner !== undefined && types.get(inner.input[0]) === to && widening(to, getAttribute(inner, 'to') as number);
  }).map(({ node }) => `${node.input[0]} -> ${node.output[0]}`);
}

/** Element type of every input of every node with this op type. */
export function inputTypesOf(model: Model, opType: string): (number | undefined)[] {
  const types = inferElemTypes(model);
  return model.nodes().filter((r) => r.node.opType === opType).flatMap((r) => r.node.input.map((i) => types.get(i)));
}
