// Deterministic inputs for the kernel suites, and how far our outputs are from onnxruntime's.

/** Pseudo-random bytes from a linear congruential generator: the same on every machine. */
export function lcgBytes(count: number, seed: number): Uint8Array {
  let s = seed >>> 0;
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

/** Floats in about [-2, 2] from lcgBytes. */
export function lcgFloats(count: number, seed: number): Float32Array {
  return Float32Array.from(lcgBytes(count, seed), (v) => (v - 127.5) / 64);
}

/** Largest absolute difference as a fraction of the largest magnitude in `want`. */
export function maxRelDiff(got: Float32Array, want: Float32Array): number {
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]));
    worst = Math.max(worst, Math.abs(got[i] - want[i]));
  }
  return scale > 0 ? worst / scale : worst;
}
