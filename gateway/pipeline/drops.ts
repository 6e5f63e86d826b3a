import type { Logger } from '../../common/logger.ts';
import type { SpoolDropReason } from '../spool/spool.ts';
import { LogLimiter } from './log-limiter.ts';
import type { PipelineMetrics } from './metrics.ts';

/**
 * Why records were lost before reaching Redis; each is a label of records_dropped_total.
 * - queue_full: the memory queue was at its bound (drop_oldest or drop_newest).
 * - blocked: the memory queue was at its bound under block, and a source that could not pause
 *   kept sending.
 * - spool_full: the spool was at its bound (drop_oldest evicted, or drop_newest refused).
 * - disk_full: the spool's disk refused a write (ENOSPC) and the policy was not block.
 * - spool_error: another spool write error, policy not block.
 * - spool_corrupt: a spooled batch failed its checksum or authentication.
 * - shutdown: still in memory at stop with neither Redis nor the spool able to take it.
 */
export type DropReason = 'queue_full' | 'blocked' | 'shutdown' | SpoolDropReason;

/** At most one ERROR line per reason per interval; it carries the counts since the last one. */
export const DROP_LOG_INTERVAL_MS = 10_000;

const MESSAGES: Record<DropReason, string> = {
  queue_full: 'Memory queue is full; dropped batches. Data was lost.',
  blocked: 'Memory queue is full while sources are asked to pause; dropped batches from sources that kept sending. Data was lost.',
  spool_full: 'Spool is full; dropped batches. Data was lost.',
  disk_full: 'Spool disk is full; dropped batches. Data was lost.',
  spool_error: 'Cannot write to the spool; dropped batches. Data was lost.',
  spool_corrupt: 'Dropped spooled batches that failed their integrity check. Data was lost.',
  shutdown: 'Lost batches that were neither written to Redis nor spooled before shutdown.',
};

/** Counts every dropped record (metrics, per-table and per-reason totals) and logs it at ERROR. */
export class DropCounter {
  readonly #log: Logger;
  readonly #metrics: PipelineMetrics;
  readonly #limiter = new LogLimiter(DROP_LOG_INTERVAL_MS);
  readonly #byReason = new Map<DropReason, number>();
  readonly #pending = new Map<DropReason, { batches: number; records: number }>();
  readonly #onTable: (table: string, records: number) => void;

  constructor(log: Logger, metrics: PipelineMetrics, onTable: (table: string, records: number) => void) {
    this.#log = log;
    this.#metrics = metrics;
    this.#onTable = onTable;
  }

  count(table: string, records: number, batches: number, reason: DropReason, context: Record<string, unknown> = {}): void {
    if (records === 0 && batches === 0) return;
    this.#byReason.set(reason, (this.#byReason.get(reason) ?? 0) + records);
    this.#metrics.recordsDropped.inc({ table, reason }, records);
    this.#onTable(table, records);
    const pending = this.#pending.get(reason) ?? { batches: 0, records: 0 };
    pending.batches += batches;
    pending.records += records;
    this.#pending.set(reason, pending);
    const write = () => {
      const since = this.#pending.get(reason) ?? { batches: 0, records: 0 };
      this.#pending.delete(reason);
      this.#log.error({ reason, ...since, ...context }, MESSAGES[reason]);
    };
    // Shutdown losses are final: log them at once, not on a timer that will not fire.
    if (reason === 'shutdown') write();
    else this.#limiter.hit(reason, write);
  }

  byReason(): Record<string, number> {
    return Object.fromEntries(this.#byReason);
  }

  flush(): void {
    this.#limiter.flush();
  }
}
