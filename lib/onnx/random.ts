// Small seeded PRNG so that builder models (and so test fixtures) are identical on every run and machine.

// Looked up once: in a vm realm (jest) each global `Math` lookup goes through the context's
// interceptors, which made sampling a ResNet's weights ten times slower than in plain Node.
const { cos, imul, log, sin, sqrt, PI } = Math;

/** mulberry32: a fast 32-bit generator; returns floats in [0, 1). */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples (Box-Muller) from a uniform generator. */
export function normalSampler(uniform: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const u = 1 - uniform(); // (0, 1]: log stays finite
    const v = uniform();
    const r = sqrt(-2 * log(u));
    spare = r * sin(2 * PI * v);
    return r * cos(2 * PI * v);
  };
}

/** `count` normal values with standard deviation `std`, deterministic in `seed`. */
export function randomNormal(count: number, seed: number, std = 1): Float32Array {
  const next = normalSampler(createRandom(seed));
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = next() * std;
  return out;
}

/** `count` uniform values in [low, high), deterministic in `seed`. */
export function randomUniform(count: number, seed: number, low = 0, high = 1): Float32Array {
  const next = createRandom(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = low + (high - low) * next();
  return out;
}
