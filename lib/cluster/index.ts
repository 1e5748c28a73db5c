// Distributed inference on BullMQ/Redis: workers, the client, serve --cluster, batches, status.
export { ClusterClient, type ClusterOptions, type ClusterClientOptions, type ClusterInferOptions, type ClusterInferResult } from './client';
export { ClusterWorker, defaultWorkerName, type ClusterWorkerOptions } from './worker';
export { createClusterServer, type ClusterServer, type ClusterServerOptions } from './cluster-server';
export { runBatch, type BatchOptions, type BatchReport, type BatchFailure } from './batch';
export { readClusterStatus, type ClusterStatus, type QueueStatus, type BatchStatus } from './status';
export type { WorkerInfo, ServedModel } from './registry';
export type { PayloadLimits } from './payload';
export { ClusterConfigError, DEFAULT_PREFIX, inferQueueName } from './names';
export { redactUrl } from './connection';
export { encodeNpz } from './npz-write';
