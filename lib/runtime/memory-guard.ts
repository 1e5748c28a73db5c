// Per model version: refuses a request whose estimated activation memory exceeds the model's
// per-request budget (413), and caps the estimates of the requests admitted at once (queued and
// running, so every batch the batcher merges) at a total; past it, 503 + Retry-After.
import { formatBytes } from '../format-bytes';
import type { Feeds } from '../engine/tensor';
import { OverloadedError, RequestMemoryError } from './errors';
import type { RequestMemoryEstimator } from './request-memory';

/** Default per-request activation budget: 1 GiB. */
export const DEFAULT_MAX_REQUEST_MEMORY_BYTES = 1024 ** 3;

export interface MemoryLimits {
  /** Largest estimated activation memory of one request. */
  maxRequestBytes: number;
  /** Largest sum of the estimates of the requests admitted at once (the batcher's total). */
  maxTotalBytes: number;
}

/** What /v2/models/{m} shows. */
export interface MemoryReport {
  max_request_bytes: number;
  max_batch_bytes: number;
  admitted_bytes: number;
  estimate: string;
}

export class MemoryGuard {
  private admitted = 0;

  constructor(
    private readonly estimator: RequestMemoryEstimator,
    readonly limits: MemoryLimits,
    private readonly modelName: string,
  ) {}

  /** Estimated bytes of the requests admitted and not yet answered. */
  get admittedBytes(): number {
    return this.admitted;
  }

  /** Admits a request (throws when it does not fit); call the returned release when it is answered. */
  admit(feeds: Feeds): () => void {
    const { bytes, unknownValues } = this.estimator.estimate(feeds);
    const { maxRequestBytes, maxTotalBytes } = this.limits;
    if (bytes > maxRequestBytes) {
      throw new RequestMemoryError(
        `request needs an estimated ${formatBytes(bytes)} (${bytes} bytes) of activation memory, over model "${this.modelName}"'s ` +
          `budget of ${formatBytes(maxRequestBytes)} (${maxRequestBytes} bytes; max_request_memory_bytes); send fewer rows or smaller dims` +
          (unknownValues > 0 ? ` (${unknownValues} values of a shape the estimate cannot follow count as large as the largest)` : ''),
        bytes,
        maxRequestBytes,
      );
    }
    if (this.admitted > 0 && this.admitted + bytes > maxTotalBytes) {
      throw new OverloadedError(
        `model "${this.modelName}" holds requests estimated at ${formatBytes(this.admitted)}; this one (${formatBytes(bytes)}) ` +
          `would pass its total of ${formatBytes(maxTotalBytes)} (max_batch_memory_bytes); retry later`,
      );
    }
    this.admitted += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.admitted -= bytes;
    };
  }

  report(): MemoryReport {
    return {
      max_request_bytes: this.limits.maxRequestBytes,
      max_batch_bytes: this.limits.maxTotalBytes,
      admitted_bytes: this.admitted,
      estimate: 'upper bound: inputs plus every intermediate and output tensor alive at once',
    };
  }
}
