// Which samples each step trains on: a fresh seeded permutation per epoch, cut into full batches (the
// training graph has one batch shape; the few samples left over join the next epoch's shuffle). Any
// step's batch follows from the seed alone, so a resumed run sees exactly the batches it would have.
import { createRandom } from '../onnx/random';

export class BatchSampler {
  readonly stepsPerEpoch: number;
  private epoch = -1;
  private order: number[] = [];

  constructor(readonly samples: number, readonly batch: number, private readonly seed: number) {
    if (batch > samples) throw new RangeError(`batch ${batch} is larger than the ${samples} samples`);
    this.stepsPerEpoch = Math.floor(samples / batch);
  }

  private permutation(epoch: number): number[] {
    const random = createRandom((this.seed * 1000003 + epoch * 7919) >>> 0);
    const order = Array.from({ length: this.samples }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    return order;
  }

  /** Sample indices of step `step` (0-based). */
  indices(step: number): number[] {
    const epoch = Math.floor(step / this.stepsPerEpoch);
    if (epoch !== this.epoch) {
      this.order = this.permutation(epoch);
      this.epoch = epoch;
    }
    const at = (step % this.stepsPerEpoch) * this.batch;
    return this.order.slice(at, at + this.batch);
  }
}
