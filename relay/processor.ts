import { DelayedError, UnrecoverableError, WaitingError, type Job } from 'bullmq';
import { backoffDelayMs, type BackoffPolicy } from '../common/backoff.ts';
import { assertBatchJob, type BatchJob } from '../common/batch.ts';
import { DeadLetterStoreFullError } from '../common/dlq/errors.ts';
import { batchEntryId, type DeadLetterStore } from '../common/dlq/store.ts';
import type { BatchDisposition } from '../common/dlq/entry.ts';
import type { Logger } from '../common/logger.ts';
import { circuitRetryAtMs } from './breaker.ts';
import { isolateBadRecords, type RejectedGroup } from './isolate.ts';
import type { RelayMetrics } from './metrics.ts';
import { nextRetryState, readRetryState, type RetryState } from './retry-state.ts';
import type { TableState } from './table-state.ts';
import { MAX_PAYLOAD_BYTES, recordCallBytes, type IngestBatch, type IngestLane } from './zerobus/client.ts';
import { ZerobusError } from './zerobus/errors.ts';

export interface BatchResult {
  records: number;
  landed: number;
  deadLettered: number;
}

export interface Ingestor {
  ingest(batch: IngestBatch, lane?: IngestLane): Promise<void>;
}

export interface ProcessorDeps {
  state: TableState;
  client: Ingestor;
  dlq: DeadLetterStore;
  attempts: number;
  backoff: BackoffPolicy;
  /** Spread of the jitter added to a circuit's wait, so waiting batches do not wake at once. */
  circuitSpreadMs: number;
  isolationMaxSends: number;
  metrics: RelayMetrics;
  log: Logger;
  /** Aborted when the relay stops and in-flight batches must go back to the queue. */
  returning: AbortSignal;
  now?: () => number;
  random?: () => number;
}

type Outcome =
  | { kind: 'landed'; landed: number; rejected: RejectedGroup[] }
  | { kind: 'refused'; error: ZerobusError }
  | { kind: 'temporary'; error: Error }
  | { kind: 'returned' };

/**
 * Turns one job (one batch) into a durable write, and decides what happens when it fails:
 * - circuit open: the job is delayed until the next probe, without using a try;
 * - refused for good (schema, grant): the whole batch is dead-lettered at once;
 * - a request refused on an open stream: the batch is split so good records land and only
 *   the bad ones are dead-lettered;
 * - temporary error: retried with backoff and jitter, dead-lettered once the tries are used up;
 * - relay stopping: the job goes back to the queue for another relay.
 * The job completes only when every record has landed or is in the dead-letter store.
 */
export function createProcessor(deps: ProcessorDeps): (job: Job<BatchJob, BatchResult>, token?: string) => Promise<BatchResult> {
  const { state, metrics, log } = deps;
  const table = state.table;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;

  const deliver = async (data: BatchJob): Promise<Outcome> => {
    const batch: IngestBatch = { table: data.table, messageType: data.messageType, recordType: data.recordType, records: data.records };
    try {
      await deps.client.ingest(batch);
      return { kind: 'landed', landed: data.records.length, rejected: [] };
    } catch (err) {
      if (!(err instanceof ZerobusError) || err.retryable) return { kind: 'temporary', error: err as Error };
      if (err.scope === 'stream') return { kind: 'refused', error: err };
    }
    // Refused on an open stream: the bad records may be in this batch or in another one in
    // flight with it. Resending on the isolated lane tells which.
    try {
      const result = await isolateBadRecords(
        data.records.length,
        (indexes) => deps.client.ingest({ ...batch, records: indexes.map((i) => data.records[i] ?? '') }, 'isolated'),
        { maxSends: deps.isolationMaxSends, maxPayloadBytes: MAX_PAYLOAD_BYTES, sizeOf: (i) => recordCallBytes(data.records[i] ?? '', data.recordType) },
      );
      return { kind: 'landed', landed: result.landed, rejected: result.rejected };
    } catch (err) {
      return { kind: 'temporary', error: err as Error };
    }
  };

  const deadLetter = async (
    job: Job<BatchJob, BatchResult>,
    data: BatchJob,
    group: { indexes: number[]; error: { code: string; message: string; retryable: boolean }; disposition: BatchDisposition },
    retry: RetryState,
  ): Promise<void> => {
    await deps.dlq.add({
      kind: 'batch',
      id: batchEntryId(table, String(job.id), group.indexes),
      table,
      messageType: data.messageType,
      recordType: data.recordType,
      records: group.indexes.map((i) => data.records[i] ?? ''),
      recordIndexes: group.indexes,
      jobId: String(job.id),
      gatewayId: data.gatewayId,
      disposition: group.disposition,
      error: group.error,
      attempts: retry.attempts,
      firstFailureMs: retry.firstFailureMs,
      lastFailureMs: retry.lastFailureMs,
    });
    metrics.recordsDeadLettered.inc({ table, code: group.error.code, disposition: group.disposition }, group.indexes.length);
    state.counters.recordsDeadLettered += group.indexes.length;
  };

  const returnToQueue = async (job: Job<BatchJob, BatchResult>, token: string): Promise<never> => {
    await job.moveToWait(token);
    state.counters.jobsReturned++;
    metrics.batchesReturned.inc({ table });
    log.info({ jobId: job.id }, 'Returned a batch in progress to the queue; the relay is stopping.');
    throw new WaitingError();
  };

  return async (job, token) => {
    try {
      assertBatchJob(job.data);
    } catch (err) {
      log.error({ jobId: job.id, err: (err as Error).message }, 'Job is not a batch this relay understands; it stays in the failed set.');
      throw new UnrecoverableError(`job ${job.id}: ${(err as Error).message}`);
    }
    if (!token) throw new Error(`job ${job.id}: processed without a lock token`);
    const data = job.data;
    if (deps.returning.aborted) return returnToQueue(job, token);

    const admission = state.breaker.admit(now());
    if (admission.decision === 'wait') {
      state.counters.jobsDelayedByCircuit++;
      metrics.batchesDelayedByCircuit.inc({ table });
      await job.moveToDelayed(circuitRetryAtMs(admission.untilMs, deps.circuitSpreadMs, random()), token);
      throw new DelayedError();
    }
    const probe = admission.decision === 'probe';
    if (probe) log.info({ jobId: job.id }, 'Circuit half-open; trying one batch as a probe.');

    const started = performance.now();
    state.counters.active++;
    state.counters.lastJobAtMs = now();
    let outcome: Outcome;
    try {
      outcome = await untilReturned(deliver(data), deps.returning);
    } finally {
      state.counters.active--;
    }

    if (outcome.kind === 'returned') {
      state.breaker.release(probe);
      return returnToQueue(job, token);
    }
    const previous = readRetryState(job.progress);
    try {
      if (outcome.kind === 'landed') {
        state.breaker.success();
        if (outcome.rejected.length > 0) {
          const at = now();
          const first = outcome.rejected[0]?.error ?? { code: 'UNKNOWN', message: '' };
          const retry = nextRetryState(previous, first, at);
          for (const group of outcome.rejected) {
            metrics.recordsFailed.inc({ table, code: group.error.code }, group.indexes.length);
            await deadLetter(job, data, { ...group, error: { ...group.error, retryable: false } }, retry);
          }
          const bad = outcome.rejected.reduce((n, g) => n + g.indexes.length, 0);
          state.lastError = { ...retry.lastError, atMs: at };
          log.warn({ jobId: job.id, records: data.records.length, landed: outcome.landed, deadLettered: bad, code: retry.lastError.code }, 'Zerobus refused some records of a batch; they are dead-lettered and the rest landed.');
        }
        return completed(job, data, outcome.landed, started);
      }
      if (outcome.kind === 'refused') {
        // The service answered: the circuit has nothing to fear, the batch is refused for good.
        state.breaker.success();
        const err = outcome.error;
        const retry = nextRetryState(previous, { code: err.code, message: err.message }, now());
        metrics.recordsFailed.inc({ table, code: err.code }, data.records.length);
        state.lastError = { code: err.code, message: err.message, atMs: retry.lastFailureMs };
        await deadLetter(job, data, { indexes: data.records.map((_, i) => i), error: { code: err.code, message: err.message, retryable: false }, disposition: 'rejected' }, retry);
        log.warn({ jobId: job.id, code: err.code, err: err.message, records: data.records.length }, 'Zerobus refused a batch for good; it is dead-lettered without retries.');
        return completed(job, data, 0, started);
      }
      return await retryOrDeadLetter(job, token, data, outcome.error, previous, started);
    } catch (err) {
      if (err instanceof DeadLetterStoreFullError) {
        metrics.recordsDeadLetterRefused.inc({ table }, data.records.length);
        log.error({ jobId: job.id, err: err.message, records: data.records.length }, 'Dead-letter store is full; the batch stays in the failed set until an operator makes room.');
        throw new UnrecoverableError(`${err.message}; the job keeps the whole batch`);
      }
      throw err;
    }
  };

  async function retryOrDeadLetter(
    job: Job<BatchJob, BatchResult>,
    token: string,
    data: BatchJob,
    error: Error,
    previous: RetryState | undefined,
    started: number,
  ): Promise<BatchResult> {
    const code = error instanceof ZerobusError ? error.code : 'UNKNOWN';
    const at = now();
    state.breaker.failure(at);
    const retry = nextRetryState(previous, { code, message: error.message }, at);
    metrics.recordsFailed.inc({ table, code }, data.records.length);
    state.lastError = { code, message: error.message, atMs: at };
    if (retry.attempts >= deps.attempts) {
      // Not a refusal: the records are not known to be bad, and a replay lands them once the cause is gone.
      await deadLetter(job, data, { indexes: data.records.map((_, i) => i), error: { code, message: error.message, retryable: true }, disposition: 'retries_exhausted' }, retry);
      log.warn({ jobId: job.id, code, attempts: retry.attempts, records: data.records.length }, 'Batch failed with a temporary error at every try; it is dead-lettered for replay.');
      return completed(job, data, 0, started);
    }
    const delayMs = backoffDelayMs(deps.backoff, retry.attempts, random());
    await job.updateProgress(retry);
    await job.moveToDelayed(at + delayMs, token);
    state.counters.jobsRetried++;
    metrics.batchRetries.inc({ table, code });
    log.warn({ jobId: job.id, code, err: error.message, attempt: retry.attempts, delayMs }, 'Batch failed; retrying later.');
    throw new DelayedError();
  }

  function completed(job: Job<BatchJob, BatchResult>, data: BatchJob, landed: number, started: number): BatchResult {
    const at = now();
    state.counters.jobsCompleted++;
    state.counters.recordsWritten += landed;
    state.written.add(landed, at);
    if (landed > 0) {
      metrics.recordsWritten.inc({ table }, landed);
      metrics.batchesWritten.inc({ table });
      metrics.batchLatency.observe({ table }, (performance.now() - started) / 1000);
    }
    return { records: data.records.length, landed, deadLettered: data.records.length - landed };
  }
}

/** The work's outcome, or 'returned' as soon as the signal aborts (the work goes on unobserved). */
function untilReturned(work: Promise<Outcome>, signal: AbortSignal): Promise<Outcome> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.resolve({ kind: 'returned' });
  }
  return new Promise((resolve) => {
    const onAbort = () => resolve({ kind: 'returned' });
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (outcome) => {
        signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        resolve({ kind: 'temporary', error: err as Error });
      },
    );
  });
}
