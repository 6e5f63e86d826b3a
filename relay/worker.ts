import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { backoffDelayMs, type BackoffPolicy } from '../common/backoff.ts';
import { assertBatchJob, queueNameFor, type BatchJob } from '../common/batch.ts';
import type { Logger } from '../common/logger.ts';
import type { RelayMetrics } from './metrics.ts';
import type { ZerobusClient } from './zerobus/client.ts';
import { ZerobusError } from './zerobus/errors.ts';

export interface TableWorkerDeps {
  table: string;
  connection: Redis;
  prefix: string;
  concurrency: number;
  attempts: number;
  backoff: BackoffPolicy;
  client: ZerobusClient;
  metrics: RelayMetrics;
  log: Logger;
}

export interface BatchResult {
  records: number;
}

/**
 * A BullMQ worker on one table's queue. A job completes only after Zerobus has acked every
 * record durably. Retryable failures put the job back with backoff and jitter; permanent ones
 * fail it at once, without retries.
 */
export function startTableWorker(deps: TableWorkerDeps): Worker<BatchJob, BatchResult> {
  const { table, client, metrics, log } = deps;
  const processor = async (job: Job<BatchJob, BatchResult>, token?: string): Promise<BatchResult> => {
    try {
      assertBatchJob(job.data);
    } catch (err) {
      throw new UnrecoverableError(`job ${job.id}: ${(err as Error).message}`);
    }
    const data = job.data;
    const started = performance.now();
    try {
      await client.ingest({ table: data.table, messageType: data.messageType, recordType: data.recordType, records: data.records });
    } catch (err) {
      const code = err instanceof ZerobusError ? err.code : 'UNKNOWN';
      metrics.recordsFailed.inc({ table, code }, data.records.length);
      if (err instanceof ZerobusError && !err.retryable) {
        log.warn({ jobId: job.id, code, err: err.message, records: data.records.length }, 'Batch rejected by Zerobus; not retrying.');
        throw new UnrecoverableError(`${code}: ${err.message}`);
      }
      if (job.attemptsStarted < deps.attempts && token) {
        const delayMs = backoffDelayMs(deps.backoff, job.attemptsStarted);
        log.warn({ jobId: job.id, code, attempt: job.attemptsStarted, delayMs }, 'Batch failed; retrying later.');
        await job.moveToDelayed(Date.now() + delayMs, token);
        throw new DelayedError();
      }
      throw err;
    }
    metrics.recordsWritten.inc({ table }, data.records.length);
    metrics.batchesWritten.inc({ table });
    metrics.batchLatency.observe({ table }, (performance.now() - started) / 1000);
    return { records: data.records.length };
  };
  const worker = new Worker<BatchJob, BatchResult>(queueNameFor(table), processor, {
    connection: deps.connection,
    prefix: deps.prefix,
    concurrency: deps.concurrency,
    autorun: true,
  });
  worker.on('error', (err) => log.warn({ err: err.message }, 'Worker connection error.'));
  worker.on('failed', (job, err) => {
    if (job && job.finishedOn) log.error({ jobId: job.id, err: err.message, records: job.data?.records?.length }, 'Batch failed for good; it stays in the failed set.');
  });
  return worker;
}
