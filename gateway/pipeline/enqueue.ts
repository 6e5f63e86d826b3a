import { BATCH_JOB_VERSION, type BatchJob } from '../../common/batch.ts';
import { backoffDelayMs, type BackoffPolicy } from '../../common/backoff.ts';
import type { Logger } from '../../common/logger.ts';
import type { Batch } from './batcher.ts';
import { LogLimiter } from './log-limiter.ts';
import type { PipelineMetrics } from './metrics.ts';
import { PendingList, type PendingBatch, type PendingLimits } from './pending.ts';
import type { BatchSink } from './redis-sink.ts';

/**
 * Redis-down policy (until the disk spool exists):
 * - A batch is never dropped because a write failed: it stays at the head of an in-memory
 *   pending list, in order, and is retried with exponential backoff for as long as it takes.
 * - The pending list is bounded (MAX_PENDING_BATCHES, MAX_PENDING_BYTES). A batch that would
 *   overflow it is dropped (drop newest), counted in records_dropped_total{reason="overflow"}
 *   and logged at ERROR, at most once per DROP_LOG_INTERVAL_MS with a count. Sources are not
 *   paused: an MQTT broker cannot be asked to hold data for a clean session.
 * - At stop, batches still pending after the stop timeout are counted in
 *   records_dropped_total{reason="shutdown"} and logged at ERROR.
 */
export const MAX_PENDING_BATCHES = 10_000;
export const MAX_PENDING_BYTES = 64 * 1024 * 1024;
export const DEFAULT_ENQUEUE_BACKOFF: BackoffPolicy = { initialMs: 100, maxMs: 10_000 };
export const DROP_LOG_INTERVAL_MS = 10_000;

export interface EnqueuerOptions {
  sink: BatchSink;
  gatewayId: string;
  runId: string;
  log: Logger;
  metrics: PipelineMetrics;
  limits?: PendingLimits;
  backoff?: BackoffPolicy;
}

export interface TableCounts {
  batchesEnqueued: number;
  recordsEnqueued: number;
  recordsDropped: number;
}

export interface EnqueueStatus {
  pendingBatches: number;
  pendingRecords: number;
  pendingBytes: number;
  /** Failed writes since the last success; above 0 means Redis is unreachable now. */
  consecutiveFailures: number;
  lastError?: string;
  lastErrorAt?: string;
  tables: Record<string, TableCounts>;
}

/** Sends batches to the sink in order, one at a time, holding them in memory while it fails. */
export class Enqueuer {
  readonly #o: EnqueuerOptions;
  readonly #pending: PendingList;
  readonly #drops = new LogLimiter(DROP_LOG_INTERVAL_MS);
  readonly #batchCounter = new Map<string, number>();
  readonly #tables = new Map<string, TableCounts>();
  readonly #emptyWaiters: Array<() => void> = [];
  #running: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #failures = 0;
  #lastError: string | undefined;
  #lastErrorAt: string | undefined;
  #stopping: Promise<void> | undefined;
  #closed = false;

  constructor(options: EnqueuerOptions) {
    this.#o = options;
    this.#pending = new PendingList(options.limits ?? { maxBatches: MAX_PENDING_BATCHES, maxBytes: MAX_PENDING_BYTES });
  }

  /** Queues a batch for Redis. False when it was dropped (pending list full, or stopped). */
  push(batch: Batch): boolean {
    const counter = (this.#batchCounter.get(batch.table) ?? 0) + 1;
    this.#batchCounter.set(batch.table, counter);
    const item: PendingBatch = { batch, jobId: `${this.#o.gatewayId}.${this.#o.runId}.${counter}`, createdAtMs: Date.now() };
    if (this.#closed || !this.#pending.push(item)) {
      this.#drop([item], this.#closed ? 'shutdown' : 'overflow');
      return false;
    }
    this.#gauges();
    this.#kick();
    return true;
  }

  /** Waits up to timeoutMs for the pending list to empty, then closes the sink. Safe twice. */
  stop(timeoutMs: number): Promise<void> {
    this.#stopping ??= this.#stop(timeoutMs);
    return this.#stopping;
  }

  status(): EnqueueStatus {
    return {
      pendingBatches: this.#pending.size,
      pendingRecords: this.#pending.records,
      pendingBytes: this.#pending.bytes,
      consecutiveFailures: this.#failures,
      ...(this.#lastError !== undefined ? { lastError: this.#lastError, lastErrorAt: this.#lastErrorAt } : {}),
      tables: Object.fromEntries([...this.#tables].map(([table, counts]) => [table, { ...counts }])),
    };
  }

  #kick(): void {
    if (this.#running || this.#closed) return;
    this.#running = this.#drain().finally(() => {
      this.#running = undefined;
    });
  }

  async #drain(): Promise<void> {
    for (;;) {
      const head = this.#pending.peek();
      if (!head || this.#closed) return;
      try {
        await this.#o.sink.send(this.#job(head), head.jobId);
      } catch (err) {
        if (this.#closed) return;
        this.#failed(err as Error);
        await this.#sleep(backoffDelayMs(this.#o.backoff ?? DEFAULT_ENQUEUE_BACKOFF, this.#failures));
        continue;
      }
      if (this.#closed) return;
      this.#pending.shift();
      this.#gauges();
      this.#succeeded(head);
    }
  }

  #job(item: PendingBatch): BatchJob {
    const b = item.batch;
    return {
      v: BATCH_JOB_VERSION,
      table: b.table,
      messageType: b.messageType,
      recordType: b.recordType,
      records: b.records,
      gatewayId: this.#o.gatewayId,
      createdAtMs: item.createdAtMs,
    };
  }

  #succeeded(item: PendingBatch): void {
    const { table, records } = item.batch;
    const counts = this.#counts(table);
    counts.batchesEnqueued += 1;
    counts.recordsEnqueued += records.length;
    this.#o.metrics.batchesEnqueued.inc({ table });
    this.#o.metrics.recordsEnqueued.inc({ table }, records.length);
    if (this.#failures > 0) {
      this.#o.log.info({ failedAttempts: this.#failures, pendingBatches: this.#pending.size }, 'Writing batches to Redis again.');
      this.#failures = 0;
    }
    if (this.#pending.size === 0) for (const resolve of this.#emptyWaiters.splice(0)) resolve();
  }

  #failed(err: Error): void {
    this.#failures += 1;
    this.#lastError = err.message;
    this.#lastErrorAt = new Date().toISOString();
    this.#o.metrics.enqueueErrors.inc();
    if (this.#failures === 1) {
      this.#o.log.warn({ err, pendingBatches: this.#pending.size }, 'Cannot write batches to Redis; keeping them in memory and retrying.');
    }
  }

  #drop(items: PendingBatch[], reason: 'overflow' | 'shutdown'): void {
    let records = 0;
    for (const { batch } of items) {
      records += batch.records.length;
      this.#counts(batch.table).recordsDropped += batch.records.length;
      this.#o.metrics.recordsDropped.inc({ table: batch.table, reason }, batch.records.length);
    }
    if (reason === 'shutdown') {
      this.#o.log.error({ batches: items.length, records }, 'Lost batches that were not written to Redis before shutdown.');
      return;
    }
    this.#drops.hit(reason, (batches) =>
      this.#o.log.error(
        { batches, pendingBatches: this.#pending.size, pendingBytes: this.#pending.bytes },
        'Pending list is full; dropped the newest batches. Data was lost.',
      ),
    );
  }

  #gauges(): void {
    this.#o.metrics.pendingBatches.set(this.#pending.size);
    this.#o.metrics.pendingRecords.set(this.#pending.records);
  }

  #counts(table: string): TableCounts {
    let counts = this.#tables.get(table);
    if (!counts) {
      counts = { batchesEnqueued: 0, recordsEnqueued: 0, recordsDropped: 0 };
      this.#tables.set(table, counts);
    }
    return counts;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }

  async #stop(timeoutMs: number): Promise<void> {
    this.#wake?.();
    let timer: NodeJS.Timeout | undefined;
    const empty = new Promise<void>((resolve) => {
      if (this.#pending.size === 0) resolve();
      else this.#emptyWaiters.push(resolve);
    });
    await Promise.race([empty, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    this.#closed = true;
    this.#wake?.();
    const lost = this.#pending.drain();
    this.#gauges();
    if (lost.length > 0) this.#drop(lost, 'shutdown');
    this.#drops.flush();
    await this.#o.sink.close();
  }
}
