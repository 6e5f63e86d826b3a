import { BATCH_JOB_VERSION, type BatchJob } from '../../common/batch.ts';
import { backoffDelayMs, type BackoffPolicy } from '../../common/backoff.ts';
import type { Logger } from '../../common/logger.ts';
import type { Spool, SpoolStatus } from '../spool/spool.ts';
import type { Batch } from './batcher.ts';
import { DropCounter, type DropReason } from './drops.ts';
import { MemoryQueue, type OverflowPolicy, type PendingBatch, type QueueLimits } from './memory-queue.ts';
import type { PipelineMetrics } from './metrics.ts';
import type { BatchSink } from './redis-sink.ts';
import { Spiller } from './spill.ts';
import { Waker } from './waker.ts';

/**
 * Where a batch goes, in order:
 * - Redis up, spool empty: from the memory queue straight to Redis.
 * - A write fails (Redis unreachable or refusing): with a spool, the failed batch and
 *   everything after it go to the spool, fsynced, and the spool is delivered oldest first,
 *   before anything newer, once writes succeed again; without one they wait in memory.
 *   Every failed write is retried with backoff, for as long as it takes.
 * - The memory queue fills past SPILL_AT_FILL (Redis slow): it spills to the spool too.
 * Bounds: the memory queue (queue.*) and the spool (spool.*) each apply their policy at
 * their bound, and every record dropped is counted in records_dropped_total{reason} and
 * logged at ERROR. Under block, the sources are asked to pause (onBlockedChange) at
 * BLOCK_HIGH_WATER of the memory queue and to resume at BLOCK_LOW_WATER.
 * At stop: wait up to the stop timeout for Redis to take what is in memory, then spool the
 * rest; only without a spool (or with one refusing) is anything lost, counted as shutdown.
 */
export const DEFAULT_QUEUE_MAX_BATCHES = 10_000;
export const DEFAULT_QUEUE_MAX_BYTES = 64 * 1024 * 1024;
export const DEFAULT_ENQUEUE_BACKOFF: BackoffPolicy = { initialMs: 100, maxMs: 10_000 };
export const SPILL_AT_FILL = 0.5;
export const BLOCK_HIGH_WATER = 0.8;
export const BLOCK_LOW_WATER = 0.5;
/** At stop, how often the wait for the memory queue to empty looks again. */
const STOP_POLL_MS = 20;
const SPOOL_EMPTY_RECHECK_MS = 100;

export interface EnqueuerOptions {
  sink: BatchSink;
  gatewayId: string;
  runId: string;
  log: Logger;
  metrics: PipelineMetrics;
  queue?: QueueLimits;
  spool?: Spool;
  backoff?: BackoffPolicy;
  /** Called when the block policy asks the sources to pause (true) or lets them resume (false). */
  onBlockedChange?: (blocked: boolean) => void;
}

export interface TableCounts {
  batchesEnqueued: number;
  recordsEnqueued: number;
  recordsSpooled: number;
  recordsDropped: number;
}

export interface EnqueueStatus {
  queue: { batches: number; records: number; bytes: number; maxBatches: number; maxBytes: number; policy: OverflowPolicy };
  /** True while batches go through the spool (Redis failing, or the spool not yet drained). */
  spooling: boolean;
  /** True while the block policy asks the sources to pause. */
  blocked: boolean;
  redis: { connected: boolean; consecutiveFailures: number; lastError?: string; lastErrorAt?: string };
  spool?: SpoolStatus;
  tables: Record<string, TableCounts>;
  /** Records dropped since start, by reason. */
  dropped: Record<string, number>;
}

export class Enqueuer {
  readonly #o: EnqueuerOptions;
  readonly #memory: MemoryQueue;
  readonly #drops: DropCounter;
  readonly #spiller: Spiller | undefined;
  readonly #batchCounter = new Map<string, number>();
  readonly #tables = new Map<string, TableCounts>();
  readonly #running: Promise<void>;
  readonly #waker = new Waker();
  #spooling: boolean;
  #directInFlight = false;
  #blocked = false;
  #failures = 0;
  #nextAttemptAt = 0;
  #lastError: string | undefined;
  #lastErrorAt: string | undefined;
  #closed = false;
  #stopping: Promise<void> | undefined;

  constructor(options: EnqueuerOptions) {
    this.#o = options;
    this.#memory = new MemoryQueue(options.queue ?? { maxBatches: DEFAULT_QUEUE_MAX_BATCHES, maxBytes: DEFAULT_QUEUE_MAX_BYTES, policy: 'drop_oldest' });
    this.#drops = new DropCounter(options.log, options.metrics, (table, records) => (this.#counts(table).recordsDropped += records));
    this.#spooling = options.spool !== undefined && !options.spool.isEmpty;
    if (options.spool) {
      this.#spiller = new Spiller({
        spool: options.spool,
        memory: this.#memory,
        log: options.log,
        canSpill: () => this.#spooling && !this.#directInFlight,
        onSpooled: (items) => this.#spooled(items),
        onRefused: (item, reason) => this.#drop([item], reason),
        onProgress: () => {
          this.#gauges();
          this.#waker.wake();
        },
      });
    }
    this.#running = this.#forward();
  }

  /** Takes a batch for Redis; false when it was dropped (queue full, or stopped). */
  push(batch: Batch): boolean {
    const counter = (this.#batchCounter.get(batch.table) ?? 0) + 1;
    this.#batchCounter.set(batch.table, counter);
    const item: PendingBatch = { batch, jobId: `${this.#o.gatewayId}.${this.#o.runId}.${counter}`, createdAtMs: Date.now() };
    if (this.#closed) {
      this.#drop([item], 'shutdown');
      return false;
    }
    const { accepted, dropped } = this.#memory.push(item);
    const refused = accepted ? [] : [item];
    const evicted = accepted ? dropped : dropped.filter((d) => d !== item);
    if (evicted.length > 0) this.#drop(evicted, 'queue_full');
    if (refused.length > 0) this.#drop(refused, this.#memory.limits.policy === 'block' ? 'blocked' : 'queue_full');
    this.#gauges();
    this.#waker.wake();
    this.#spiller?.wake();
    return accepted;
  }

  /** Drops counted elsewhere that belong in the same totals (the spool's evictions). */
  countDrop(table: string, records: number, reason: DropReason): void {
    this.#drops.count(table, records, 0, reason);
  }

  status(): EnqueueStatus {
    const m = this.#memory;
    return {
      queue: { batches: m.size, records: m.records, bytes: m.bytes, maxBatches: m.limits.maxBatches, maxBytes: m.limits.maxBytes, policy: m.limits.policy },
      spooling: this.#spooling,
      blocked: this.#blocked,
      redis: {
        connected: this.#o.sink.connected?.() ?? this.#failures === 0,
        consecutiveFailures: this.#failures,
        ...(this.#lastError !== undefined ? { lastError: this.#lastError, lastErrorAt: this.#lastErrorAt } : {}),
      },
      ...(this.#o.spool ? { spool: this.#o.spool.status() } : {}),
      tables: Object.fromEntries([...this.#tables].map(([table, counts]) => [table, { ...counts }])),
      dropped: this.#drops.byReason(),
    };
  }

  /**
   * Waits up to timeoutMs for Redis to take what is in memory, spools the rest, and closes
   * the sink and the spool. Safe twice.
   */
  stop(timeoutMs: number): Promise<void> {
    this.#stopping ??= this.#stop(timeoutMs);
    return this.#stopping;
  }

  async #forward(): Promise<void> {
    while (!this.#closed) {
      const spool = this.#o.spool;
      if (spool && !this.#spooling && this.#memory.fill() >= SPILL_AT_FILL) this.#startSpooling();
      const waitMs = this.#nextAttemptAt - Date.now();
      if (waitMs > 0) {
        await this.#waker.idle(waitMs);
        continue;
      }
      if (spool && !spool.isEmpty) await this.#deliverFromSpool(spool);
      // While spooling, memory goes through the spool, unless the spool refuses writes (a full
      // disk under block): then the oldest batch in memory is the oldest of all, and goes direct.
      else if (this.#spiller?.busy || (spool && this.#spooling && spool.status().accepting)) await this.#waker.idle();
      else if (this.#memory.size > 0) await this.#deliverFromMemory();
      else await this.#waker.idle();
    }
  }

  async #deliverFromSpool(spool: Spool): Promise<void> {
    let head: PendingBatch | undefined;
    try {
      head = await spool.peek();
    } catch (err) {
      this.#o.log.error({ err }, 'Cannot read the spool; retrying.');
      this.#nextAttemptAt = Date.now() + backoffDelayMs(this.#o.backoff ?? DEFAULT_ENQUEUE_BACKOFF, 1);
      return;
    }
    if (!head) {
      // isEmpty said there was a batch; should the books ever disagree, do not spin.
      await this.#waker.idle(SPOOL_EMPTY_RECHECK_MS);
      return;
    }
    try {
      await this.#o.sink.send(this.#job(head), head.jobId);
    } catch (err) {
      spool.release();
      this.#failed(err as Error);
      return;
    }
    spool.ack();
    this.#succeeded(head);
  }

  async #deliverFromMemory(): Promise<void> {
    const head = this.#memory.peek() as PendingBatch;
    this.#memory.pin(1);
    this.#directInFlight = true;
    try {
      await this.#o.sink.send(this.#job(head), head.jobId);
    } catch (err) {
      this.#memory.unpin();
      this.#failed(err as Error);
      if (this.#o.spool) this.#startSpooling();
      return;
    } finally {
      this.#directInFlight = false;
      this.#spiller?.wake();
    }
    this.#memory.shift();
    this.#gauges();
    this.#succeeded(head);
  }

  #startSpooling(): void {
    this.#spooling = true;
    this.#spiller?.wake();
  }

  #job(item: PendingBatch): BatchJob {
    const b = item.batch;
    return { v: BATCH_JOB_VERSION, table: b.table, messageType: b.messageType, recordType: b.recordType, records: b.records, gatewayId: this.#o.gatewayId, createdAtMs: item.createdAtMs };
  }

  #succeeded(item: PendingBatch): void {
    const { table, records } = item.batch;
    const counts = this.#counts(table);
    counts.batchesEnqueued += 1;
    counts.recordsEnqueued += records.length;
    this.#o.metrics.batchesEnqueued.inc({ table });
    this.#o.metrics.recordsEnqueued.inc({ table }, records.length);
    if (this.#failures > 0) {
      this.#o.log.info({ failedAttempts: this.#failures, queuedBatches: this.#memory.size, spooledBatches: this.#o.spool?.status().batches ?? 0 }, 'Writing batches to Redis again.');
      this.#failures = 0;
      this.#nextAttemptAt = 0;
    }
    // Back to the direct path once the spool is drained and nothing is on its way into it.
    if (this.#spooling && this.#o.spool?.isEmpty && !this.#spiller?.busy && this.#memory.fill() < SPILL_AT_FILL) this.#spooling = false;
    this.#updateBlocked();
  }

  #failed(err: Error): void {
    this.#failures += 1;
    this.#lastError = err.message;
    this.#lastErrorAt = new Date().toISOString();
    this.#o.metrics.enqueueErrors.inc();
    this.#nextAttemptAt = Date.now() + backoffDelayMs(this.#o.backoff ?? DEFAULT_ENQUEUE_BACKOFF, this.#failures);
    if (this.#failures === 1) {
      const message = this.#o.spool
        ? 'Cannot write batches to Redis; spooling them to disk and retrying.'
        : 'Cannot write batches to Redis; keeping them in memory and retrying.';
      this.#o.log.warn({ err, queuedBatches: this.#memory.size }, message);
    }
  }

  #spooled(items: PendingBatch[]): void {
    for (const { batch } of items) {
      this.#counts(batch.table).recordsSpooled += batch.records.length;
      this.#o.metrics.recordsSpooled.inc({ table: batch.table }, batch.records.length);
    }
    this.#updateBlocked();
  }

  #drop(items: PendingBatch[], reason: DropReason): void {
    const byTable = new Map<string, { records: number; batches: number }>();
    for (const { batch } of items) {
      const t = byTable.get(batch.table) ?? { records: 0, batches: 0 };
      t.records += batch.records.length;
      t.batches += 1;
      byTable.set(batch.table, t);
    }
    for (const [table, t] of byTable) this.#drops.count(table, t.records, t.batches, reason, { policy: this.#memory.limits.policy });
  }

  #updateBlocked(): void {
    if (this.#memory.limits.policy !== 'block') return;
    const fill = this.#memory.fill();
    const blocked = this.#blocked ? fill > BLOCK_LOW_WATER : fill >= BLOCK_HIGH_WATER;
    if (blocked === this.#blocked) return;
    this.#blocked = blocked;
    this.#o.metrics.blocked.set(blocked ? 1 : 0);
    if (blocked) this.#o.log.warn({ queuedBytes: this.#memory.bytes, queuedBatches: this.#memory.size }, 'Memory queue is nearly full under policy block; asking sources to pause.');
    else this.#o.log.info({ queuedBytes: this.#memory.bytes }, 'Memory queue has room again; letting sources resume.');
    this.#o.onBlockedChange?.(blocked);
  }

  #gauges(): void {
    this.#o.metrics.queueBatches.set(this.#memory.size);
    this.#o.metrics.queueRecords.set(this.#memory.records);
    this.#o.metrics.queueBytes.set(this.#memory.bytes);
    this.#updateBlocked();
  }

  #counts(table: string): TableCounts {
    let counts = this.#tables.get(table);
    if (!counts) {
      counts = { batchesEnqueued: 0, recordsEnqueued: 0, recordsSpooled: 0, recordsDropped: 0 };
      this.#tables.set(table, counts);
    }
    return counts;
  }

  async #stop(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    if (this.#failures > 0 && this.#o.spool) this.#startSpooling();
    while (this.#memory.size > 0 && Date.now() < deadline) {
      if (this.#failures > 0 && this.#o.spool) this.#startSpooling();
      await new Promise((r) => setTimeout(r, Math.min(STOP_POLL_MS, Math.max(0, deadline - Date.now()))));
    }
    this.#closed = true;
    this.#waker.wake();
    await this.#running;
    if (this.#spiller) {
      this.#spooling = true;
      await this.#spiller.stop();
    }
    const lost = this.#memory.drain();
    this.#gauges();
    if (lost.length > 0) this.#drop(lost, 'shutdown');
    this.#drops.flush();
    await this.#o.spool?.close();
    await this.#o.sink.close();
  }
}

