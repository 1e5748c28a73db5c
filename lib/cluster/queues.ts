// BullMQ Queue objects over one shared connection (a Queue never blocks, so they can share it),
// made on first use and closed together.
import { Queue } from 'bullmq';
import type Redis from 'ioredis';

export class QueueSet {
  private readonly queues = new Map<string, Queue>();

  constructor(private readonly redis: Redis, readonly prefix: string) {}

  get(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.redis, prefix: this.prefix });
      queue.on('error', () => undefined);
      this.queues.set(name, queue);
    }
    return queue;
  }

  async close(): Promise<void> {
    const queues = [...this.queues.values()];
    this.queues.clear();
    await Promise.all(queues.map((q) => q.close()));
  }
}
