// onnxforge cluster status: live workers, queue depths and jobs in flight, batches in progress.
import { Command } from 'commander';
import { ClusterClient } from '../../cluster/client';
import type { ClusterStatus } from '../../cluster/status';
import { addRedisOptions, redisUrl } from '../cluster-options';
import { printJson, table } from '../output';

function formatStatus(status: ClusterStatus): string {
  const now = Date.now();
  const lines = [
    `workers: ${status.workers.length}`,
    table(['worker', 'host', 'state', 'models', 'active', 'completed', 'failed', 'heartbeat'], status.workers.map((w) => [
      w.name, `${w.host}:${w.pid}`, w.state, w.models.map((m) => m.name).join(','), w.active, w.completed, w.failed,
      `${Math.max(0, Math.round((now - w.heartbeatAt) / 1000))} s ago`,
    ])),
    '',
    table(['queue', 'waiting', 'active', 'delayed', 'failed', 'workers'], status.queues.map((q) => [
      q.model, q.waiting, q.active, q.delayed, q.failed, q.workers.length ? q.workers.join(',') : '(none)',
    ])),
  ];
  if (status.batches.length) {
    lines.push('', table(['batch', 'model', 'samples', 'chunks done', 'pending', 'failed'], status.batches.map((b) => [
      b.id, b.model, b.samples, b.chunks.done, b.chunks.pending, b.chunks.failed,
    ])));
  }
  return lines.join('\n');
}

export function registerCluster(program: Command): void {
  const cluster = program.command('cluster').description('look at a cluster of workers (BullMQ on Redis)');
  addRedisOptions(cluster.command('status').description('live workers and their models, queue depths, jobs in flight, batches'))
    .option('--json', 'print the status as JSON')
    .action(async (opts) => {
      const client = new ClusterClient({ redis: redisUrl(opts), prefix: opts.prefix });
      try {
        await client.connect();
        const status = await client.status();
        if (opts.json) printJson(status);
        else process.stdout.write(formatStatus(status) + '\n');
      } finally {
        await client.close();
      }
    });
}
