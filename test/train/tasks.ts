// Synthetic labelled tasks, generated from a seed, that the builder's small models can learn to
// near-perfect accuracy in a few hundred steps: a token-sequence task for a BERT-style encoder and an
// image task for a conv net.
import type { HostTensor } from '../../lib/engine/tensor';
import { createRandom, normalSampler } from '../../lib/onnx/random';
import type { Dataset } from '../../lib/train/dataset';

/** Tokens per group of the sequence task. */
const GROUP_SIZE = 4;

/** Vocabulary of the sequence task with `groups` groups: 0 is [CLS], then the groups' tokens. */
export const sequenceVocab = (groups: number): number => 1 + groups * GROUP_SIZE;

/**
 * Sequences of [CLS] and `length - 1` tokens; the label is the token group that occurs most, by at
 * least `margin`, so it needs attention over the whole sequence.
 */
export function majorityTokens(samples: number, length: number, seed: number, groups = 3, margin = 2): Dataset {
  const random = createRandom(seed);
  const ids = new BigInt64Array(samples * length);
  const labels = new BigInt64Array(samples);
  for (let s = 0; s < samples; s++) {
    const label = Math.floor(random() * groups);
    const drawn: number[] = [];
    for (let i = 1; i < length; i++) drawn.push(Math.floor(random() * groups));
    const count = (g: number) => drawn.filter((x) => x === g).length;
    const others = Array.from({ length: groups }, (_, g) => g).filter((g) => g !== label);
    // Turn random positions over to the label's group until it leads every other group by the margin.
    while (others.some((g) => count(label) < count(g) + margin)) drawn[Math.floor(random() * drawn.length)] = label;
    ids[s * length] = 0n;
    drawn.forEach((g, i) => (ids[s * length + 1 + i] = BigInt(1 + g * GROUP_SIZE + Math.floor(random() * GROUP_SIZE))));
    labels[s] = BigInt(label);
  }
  const mask: HostTensor = { type: 'int64', dims: [samples, length], data: new BigInt64Array(samples * length).fill(1n) };
  return {
    inputs: { input_ids: { type: 'int64', dims: [samples, length], data: ids }, attention_mask: mask },
    labels: { type: 'int64', dims: [samples], data: labels },
    size: samples,
  };
}

/** Images `size`×`size` (one channel) of a bar: horizontal, vertical, diagonal or anti-diagonal, anywhere, in noise. */
export function barImages(samples: number, size: number, seed: number): Dataset {
  const random = createRandom(seed);
  const noise = normalSampler(random);
  const data = new Float32Array(samples * size * size);
  const labels = new BigInt64Array(samples);
  const bar = 4;
  for (let s = 0; s < samples; s++) {
    const label = Math.floor(random() * 4);
    const image = data.subarray(s * size * size, (s + 1) * size * size);
    for (let i = 0; i < image.length; i++) image[i] = 0.3 * noise();
    const [dr, dc] = [[0, 1], [1, 0], [1, 1], [1, -1]][label];
    const r0 = Math.floor(random() * (size - bar));
    const c0 = (dc < 0 ? bar - 1 : 0) + Math.floor(random() * (size - bar));
    for (let k = 0; k < bar; k++) image[(r0 + dr * k) * size + (c0 + dc * k)] += 1.5;
    labels[s] = BigInt(label);
  }
  return {
    inputs: { input: { type: 'float32', dims: [samples, 1, size, size], data } },
    labels: { type: 'int64', dims: [samples], data: labels },
    size: samples,
  };
}
