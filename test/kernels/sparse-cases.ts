// Test cases for the sparse kernels: awkward shapes, sparsity from 0 to 1 (all zero),
// empty rows and columns, 2:4, k large enough for 32-bit indices.
import { kernels } from '../../lib/kernels';
import { randomFloats, rng } from './int8-reference';

export interface SparseCase {
  label: string;
  m: number; k: number; n: number;
  w: Float32Array | Int8Array;
  scales?: Float32Array;
  pattern?: '2:4';
  x: Float32Array;
  bias?: Float32Array;
  async?: boolean;
}

export interface SparseResult {
  isa: string;
  nonzeros: number;
  y: Float32Array;
  yAsync?: Float32Array;
  dense?: Float32Array;
}

const SHAPES: [number, number, number][] = [
  [1, 1, 1], [1, 17, 33], [2, 65, 17], [3, 255, 63], [8, 256, 16], [9, 257, 15], [16, 300, 40],
  [17, 63, 65], [33, 513, 20], [40, 130, 70], [65, 70, 3], [128, 64, 17],
];
const SPARSITIES = [0, 0.5, 0.9, 0.99, 1];

/** Zero with probability `sparsity`; rows kk % 5 == 1 and columns j % 7 == 3 entirely zero when `holes`. */
function sparsify<T extends Float32Array | Int8Array>(w: T, k: number, n: number, sparsity: number, holes: boolean, rand: () => number): T {
  for (let kk = 0; kk < k; kk++) {
    for (let j = 0; j < n; j++) {
      if (rand() < sparsity || (holes && (kk % 5 === 1 || j % 7 === 3))) w[kk * n + j] = 0;
    }
  }
  return w;
}

function floatCase(label: string, m: number, k: number, n: number, sparsity: number, rand: () => number, extra: Partial<SparseCase> = {}): SparseCase {
  const holes = sparsity > 0 && sparsity < 1;
  return {
    label: `float32 ${label} ${m}x${k}x${n} sparsity ${sparsity}${holes ? ' with empty rows/columns' : ''}`,
    m, k, n,
    w: sparsify(randomFloats(k * n, 1, rand), k, n, sparsity, holes, rand),
    x: randomFloats(m * k, 2, rand),
    bias: rand() < 0.5 ? randomFloats(n, 1, rand) : undefined,
    ...extra,
  };
}

function int8Case(label: string, m: number, k: number, n: number, sparsity: number, rand: () => number, extra: Partial<SparseCase> = {}): SparseCase {
  const holes = sparsity > 0 && sparsity < 1;
  const w = Int8Array.from({ length: k * n }, () => Math.floor(rand() * 255) - 127);
  const perColumn = rand() < 0.5;
  return {
    label: `int8 ${label} ${m}x${k}x${n} sparsity ${sparsity}${holes ? ' with empty rows/columns' : ''}`,
    m, k, n,
    w: sparsify(w, k, n, sparsity, holes, rand),
    scales: perColumn ? Float32Array.from({ length: n }, () => 0.001 + rand() * 0.01) : Float32Array.of(0.004),
    x: randomFloats(m * k, 3, rand),
    bias: rand() < 0.5 ? randomFloats(n, 1, rand) : undefined,
    ...extra,
  };
}

/** W pruned to 2:4 along k (pruneMask's groups), float32 or int8. */
function twoFourCase(dtype: 'float32' | 'int8', m: number, k: number, n: number, rand: () => number): SparseCase {
  const dense = randomFloats(k * n, 1, rand);
  const mask = kernels.pruneMask(dense, k, n, { pattern: '2:4' });
  const base = dtype === 'float32' ? floatCase('2:4', m, k, n, 0, rand) : int8Case('2:4', m, k, n, 0, rand);
  for (let i = 0; i < k * n; i++) if (!mask[i]) base.w[i] = 0;
  return { ...base, pattern: '2:4' };
}

export function sparseCases(): SparseCase[] {
  const rand = rng(2024);
  const cases: SparseCase[] = [];
  SHAPES.forEach(([m, k, n], s) => {
    for (const sparsity of SPARSITIES) {
      const async = (s + SPARSITIES.indexOf(sparsity)) % 3 === 0;
      cases.push(floatCase('', m, k, n, sparsity, rand, { async }), int8Case('', m, k, n, sparsity, rand, { async }));
    }
  });
  for (const [m, k, n] of [[1, 64, 24], [7, 257, 33], [40, 100, 20]] as const) {
    cases.push(twoFourCase('float32', m, k, n, rand), twoFourCase('int8', m, k, n, rand));
  }
  // Products large enough to be split over the thread pool.
  cases.push(floatCase('threaded', 32, 512, 300, 0.5, rand, { async: true }), floatCase('threaded', 1, 1024, 600, 0.9, rand));
  cases.push(int8Case('threaded', 32, 512, 300, 0.5, rand, { async: true }), int8Case('threaded', 1, 1024, 600, 0.9, rand));
  // Convolution-sized row counts: 64-row tiles, a partial last tile, and enough tiles that each thread
  // transposes and runs its own (3 threads, 7 tiles).
  cases.push(floatCase('conv rows', 50, 147, 19, 0.8, rand), floatCase('conv rows', 420, 150, 70, 0.8, rand, { async: true }));
  // Rows (float32) or 4-row groups (int8) past 2^16: 32-bit indices.
  cases.push(floatCase('wide index', 2, 70000, 3, 0.9, rand), int8Case('wide index', 2, 262150, 2, 0.9, rand));
  return cases;
}
