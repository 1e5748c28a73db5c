// The int8 test cases: awkward shapes covering each of 1, 2, 3, 15, 16, 17, 31,
// 63, 64, 65, 127, 255 and 1000 in each of m, k and n, with zero points across
// their whole range, per tensor and per column.
import type { ChildCase } from './int8-isa';
import { randomFloats, randomInts, rng } from './int8-reference';

export const EDGE_VALUES = [1, 2, 3, 15, 16, 17, 31, 63, 64, 65, 127, 255, 1000];
const MAX_MACS = 2_000_000;

/** [m, k, n] triples: every edge value in every dimension, beside varied companions. */
export function edgeShapes(): [number, number, number][] {
  const shapes: [number, number, number][] = [];
  const count = EDGE_VALUES.length;
  for (let dim = 0; dim < 3; dim++) {
    for (let i = 0; i < count; i++) {
      const shape: [number, number, number] = [
        EDGE_VALUES[(i + 4) % count], EDGE_VALUES[(i + 9) % count], EDGE_VALUES[(i + 6) % count],
      ];
      shape[dim] = EDGE_VALUES[i];
      // Shrink the other dims until the product is cheap enough for a JS reference.
      while (shape[0] * shape[1] * shape[2] > MAX_MACS) {
        const others = [0, 1, 2].filter((d) => d !== dim);
        const big = shape[others[0]] >= shape[others[1]] ? others[0] : others[1];
        shape[big] = EDGE_VALUES[EDGE_VALUES.indexOf(shape[big]) - 1];
      }
      shapes.push(shape);
    }
  }
  // k across several of the kernels' k blocks (512), m across several row tiles.
  shapes.push([5, 1100, 70], [33, 2100, 40], [500, 600, 40], [1000, 17, 130]);
  return shapes;
}

export interface MatmulCase extends ChildCase {
  a: Uint8Array | Int8Array;
  aZeroPoint?: number | Uint8Array | Int8Array;
  label: string;
}

export function matmulCases(): MatmulCase[] {
  const rand = rng(42);
  const cases: MatmulCase[] = [];
  edgeShapes().forEach(([m, k, n], index) => {
    const signed = index % 2 === 1;
    const a = signed
      ? randomInts(Int8Array, m * k, -128, 127, rand)
      : randomInts(Uint8Array, m * k, 0, 255, rand);
    const b = randomInts(Int8Array, k * n, -128, 127, rand);
    // Zero points of A: the edges of the range, the middle, random, and per row.
    let aZeroPoint: number | Uint8Array | Int8Array | undefined;
    switch (index % 6) {
      case 0: aZeroPoint = undefined; break;
      case 1: aZeroPoint = signed ? 127 : 255; break;
      case 2: aZeroPoint = signed ? -128 : 128; break;
      case 3: aZeroPoint = signed ? Math.floor(rand() * 256) - 128 : Math.floor(rand() * 256); break;
      case 4: aZeroPoint = signed ? randomInts(Int8Array, m, -128, 127, rand) : randomInts(Uint8Array, m, 0, 255, rand); break;
      default: aZeroPoint = signed ? -1 : 1; break;
    }
    // Zero points of B: none, per tensor, per column.
    let zeroPoints: Int8Array | undefined;
    switch (index % 5) {
      case 0: zeroPoints = undefined; break;
      case 1: zeroPoints = Int8Array.of(Math.floor(rand() * 256) - 128); break;
      case 2: zeroPoints = randomInts(Int8Array, n, -128, 127, rand); break;
      case 3: zeroPoints = Int8Array.of(-128); break;
      default: zeroPoints = Int8Array.from({ length: n }, (_, j) => (j % 2 ? 127 : -128)); break;
    }
    cases.push({
      label: `#${index} ${m}x${k}x${n} ${signed ? 's8' : 'u8'}xs8 aZp=${ArrayBuffer.isView(aZeroPoint) ? 'per-row' : aZeroPoint ?? 'none'} ` +
        `bZp=${zeroPoints ? (zeroPoints.length === 1 ? zeroPoints[0] : 'per-column') : 'none'}`,
      m, k, n, a, b, aZeroPoint, zeroPoints, async: index % 7 === 0,
    });
  });
  // Largest magnitudes: every product is 255 * -128 (or -128 * -128 with the s8 shift).
  cases.push({
    label: 'extremes u8 255 x s8 -128', m: 3, k: 1000, n: 33,
    a: new Uint8Array(3 * 1000).fill(255), b: new Int8Array(1000 * 33).fill(-128),
  });
  cases.push({
    label: 'extremes s8 -128 x s8 -128, zero points 127/127', m: 4, k: 999, n: 17,
    a: new Int8Array(4 * 999).fill(-128), b: new Int8Array(999 * 17).fill(-128),
    aZeroPoint: 127, zeroPoints: Int8Array.of(127),
  });
  for (const [m, k, n] of [[0, 5, 7], [4, 0, 9], [3, 6, 0]]) {
    cases.push({ label: `empty ${m}x${k}x${n}`, m, k, n, a: new Uint8Array(m * k), b: new Int8Array(k * n), aZeroPoint: 3 });
  }
  return cases;
}

export interface LinearTestCase extends ChildCase {
  x: Float32Array;
  scales: Float32Array;
  zeroPoints: Int8Array;
  label: string;
}

export function linearCases(): LinearTestCase[] {
  const rand = rng(7);
  const cases: LinearTestCase[] = [];
  edgeShapes().forEach(([m, k, n], index) => {
    if (m * k * n > 600_000 || (index % 2 === 1 && index < 3 * EDGE_VALUES.length)) return;
    const x = randomFloats(m * k, index % 3 === 0 ? 3 : 0.05, rand);
    // Rows that are all positive, all negative or all zero move the zero point to its ends.
    if (m > 2) {
      for (let kk = 0; kk < k; kk++) {
        x[kk] = Math.abs(x[kk]);
        x[k + kk] = -Math.abs(x[k + kk]);
        x[2 * k + kk] = 0;
      }
    }
    const perColumn = index % 4 === 0;
    const scales = perColumn
      ? Float32Array.from({ length: n }, () => 0.001 + rand() * 0.02)
      : Float32Array.of(0.0123);
    const zeroPoints = index % 3 === 2 ? Int8Array.of(Math.floor(rand() * 21) - 10) : Int8Array.of(0);
    cases.push({
      label: `#${index} ${m}x${k}x${n} ${perColumn ? 'per-column' : 'per-tensor'} scales, bZp=${zeroPoints[0]}`,
      m, k, n, x, b: randomInts(Int8Array, k * n, -127, 127, rand), scales, zeroPoints,
      bias: index % 4 === 2 ? undefined : randomFloats(n, 1, rand),
      async: index % 5 === 0,
    });
  });
  return cases;
}
