// Order statistics of |w| over many weight tensors without copying them into one array: the bit pattern of a
// non-negative float32 orders like the number, so a histogram of its top bits finds the bucket holding the
// k-th smallest and only that bucket is sorted.

function magnitudeBits(values: Float32Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length);
}

/** The k-th smallest (0-based) |w| over all arrays. */
export function kthSmallestMagnitude(arrays: readonly Float32Array[], k: number): number {
  const histogram = new Float64Array(1 << 15);
  for (const a of arrays) {
    const bits = magnitudeBits(a);
    for (let i = 0; i < bits.length; i++) histogram[(bits[i] & 0x7fffffff) >>> 16]++;
  }
  let bucket = 0;
  let before = 0;
  while (before + histogram[bucket] <= k) before += histogram[bucket++];
  const members = new Uint32Array(histogram[bucket]);
  let filled = 0;
  for (const a of arrays) {
    const bits = magnitudeBits(a);
    for (let i = 0; i < bits.length; i++) {
      const u = bits[i] & 0x7fffffff;
      if (u >>> 16 === bucket) members[filled++] = u;
    }
  }
  members.sort();
  return new Float32Array(new Uint32Array([members[k - before]]).buffer)[0];
}

/** How many |w| are below `cut`, and how many equal it. */
export function countAtMost(values: Float32Array, cut: number): { below: number; equal: number } {
  let below = 0;
  let equal = 0;
  for (let i = 0; i < values.length; i++) {
    const m = Math.abs(values[i]);
    if (m < cut) below++;
    else if (m === cut) equal++;
  }
  return { below, equal };
}
