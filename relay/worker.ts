import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { queueNameFor, type BatchJob } from '../common/batch.ts';
import type { Logger } from '../common/logger.ts';
import { createProcessor, type BatchResult, type ProcessorDeps } from './processor.ts';

export type { BatchResult } from './processor.ts';

export interface TableWorkerDeps extends ProcessorDeps {
  connection: Redis;
  prefix: string;
  /** Shown by BullMQ's getWorkers() as the worker's name: the relay id. */
  name: string;
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
  log: Logger;
}

/**
 * A BullMQ worker on one table's queue. BullMQ hands each job to one worker at a time under a
 * lock the worker renews every lockDuration/2; a relay that dies stops renewing, and after the
 * lock expires any relay's stalled-job check puts the job back in the queue. So several relays
 * share a queue, and a job is processed twice only when its relay died (or stalled for a whole
 * lock duration) mid-batch.
 */
export function startTableWorker(deps: TableWorkerDeps): Worker<BatchJob, BatchResult> {
  const { log } = deps;
  const worker = new Worker<BatchJob, BatchResult>(queueNameFor(deps.state.table), createProcessor(deps), {
    connection: deps.connection,
    prefix: deps.prefix,
    name: deps.name,
    concurrency: deps.concurrency,
    lockDuration: deps.lockDurationMs,
    stalledInterval: deps.stalledIntervalMs,
    maxStalledCount: deps.maxStalledCount,
    autorun: true,
  });
  worker.on('error', (err) => log.warn({ err: err.message }, 'Worker connection error.'));
  worker.on('stalled', (jobId) => log.warn({ jobId }, 'A batch whose relay stopped renewing its lock is back in the queue.'));
  worker.on('failed', (job, err) => {
    if (job?.finishedOn) log.error({ jobId: job.id, err: err.message, records: job.data?.records?.length }, 'Batch failed for good; it stays in the failed set.');
  });
  return worker;
}
