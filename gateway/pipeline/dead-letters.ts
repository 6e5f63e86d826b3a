import { ZodError } from 'zod';
import { backoffDelayMs, type BackoffPolicy } from '../../common/backoff.ts';
import type { PayloadDeadLetter } from '../../common/dlq/entry.ts';
import { DeadLetterStoreFullError } from '../../common/dlq/errors.ts';
import type { DeadLetterStore } from '../../common/dlq/store.ts';
import type { Logger } from '../../common/logger.ts';
import { LogLimiter } from './log-limiter.ts';
import type { PipelineMetrics } from './metrics.ts';
import { DEFAULT_REJECTION_KIND, detached, type RejectionEvent } from './rejections.ts';
import { Waker } from './waker.ts';

/** Entries written to Redis at once (pipelined on one connection) while writes succeed. */
export const DLQ_WRITE_WINDOW = 64;
/** At most one ERROR line per loss reason per interval, with the count since the last one. */
export const DLQ_LOSS_LOG_INTERVAL_MS = 10_000;
/** A backlog entry's bytes besides its text fields (ids, numbers, JSON keys): a rough constant. */
const ENTRY_OVERHEAD_BYTES = 256;
const ID_SEQ_DIGITS = 12;
const STOP_POLL_MS = 20;

/**
 * Why a rejected payload is not in the dead-letter store (records_dead_letter_lost_total):
 * - dlq_full: the store is at max_entries or max_bytes and refused it (it never evicts);
 * - backlog_full: Redis was unreachable and the in-memory backlog was at its bound;
 * - shutdown: still waiting for Redis when the gateway stopped;
 * - invalid_entry: the store refused the entry as invalid (a bug: the log has the field);
 * - no_table: the source has no target table (it was removed while the payload was rejected).
 * The rejection itself is counted in records_rejected_total and shown in /status either way.
 */
export type DeadLetterLossReason = 'dlq_full' | 'backlog_full' | 'shutdown' | 'invalid_entry' | 'no_table';

const LOSS_MESSAGES: Record<DeadLetterLossReason, string> = {
  dlq_full: 'Dead-letter store is full; rejected payloads were counted but not stored. Data was lost. Delete handled entries (relay DELETE /dlq/<id>), or raise dlq.max_entries / dlq.max_bytes.',
  backlog_full: 'Dead-letter backlog is full while Redis is unreachable; rejected payloads were counted but not stored. Data was lost.',
  shutdown: 'Rejected payloads still waiting for Redis at stop were not stored. Data was lost.',
  invalid_entry: 'The dead-letter store refused an entry as invalid; the rejected payload was counted but not stored.',
  no_table: 'A rejected payload came from a source with no target table; it was counted but not stored.',
};

export interface DeadLetterForwarderOptions {
  store: Pick<DeadLetterStore, 'add'>;
  /** Whether the store's Redis connection is up now, for /status. */
  connected(): boolean;
  /** The target table of a source, for the entry (the relay lists entries per table). */
  tableOf(source: string): string | undefined;
  /** Leads every entry id (the gateway's run id), so ids are unique and a retried write is a no-op. */
  idPrefix: string;
  maxPayloadChars: number;
  backlog: { maxEntries: number; maxBytes: number };
  backoff: BackoffPolicy;
  log: Logger;
  metrics: PipelineMetrics;
}

export interface DeadLetterStatus {
  /** Rejected payloads stored since start. */
  stored: number;
  /** Rejected payloads counted but not stored, by reason (see records_dead_letter_lost_total). */
  lost: Record<string, number>;
  /** Waiting in memory for Redis. */
  backlog: { entries: number; bytes: number; maxEntries: number; maxBytes: number };
  /** True since the store last refused an entry as full; false again once it takes one. */
  storeFull: boolean;
  redis: { connected: boolean; consecutiveFailures: number; lastError?: string; lastErrorAt?: string };
}

interface Pending {
  entry: PayloadDeadLetterInput;
  bytes: number;
}

type PayloadDeadLetterInput = Omit<PayloadDeadLetter, 'createdAtMs'>;

/**
 * Forwards every rejection to the dead-letter store in Redis as a 'payload' entry. offer() only
 * appends to a bounded in-memory backlog, so a source is never blocked or slowed; one loop
 * writes the backlog oldest first. While Redis fails, the backlog waits and one entry probes
 * with backoff; what does not fit is counted and logged, never dropped silently. Each entry
 * has its id from the start, so a write that timed out but landed is not stored twice.
 */
export class DeadLetterForwarder {
  readonly #o: DeadLetterForwarderOptions;
  readonly #limiter = new LogLimiter(DLQ_LOSS_LOG_INTERVAL_MS);
  readonly #backlog: Pending[] = [];
  readonly #stored = new Map<string, number>();
  readonly #lost = new Map<DeadLetterLossReason, number>();
  readonly #running: Promise<void>;
  #bytes = 0;
  #seq = 0;
  #failures = 0;
  #nextAttemptAt = 0;
  #lastError: string | undefined;
  #lastErrorAt: string | undefined;
  #storeFull = false;
  #closed = false;
  readonly #waker = new Waker();
  #stopping: Promise<void> | undefined;

  constructor(options: DeadLetterForwarderOptions) {
    this.#o = options;
    this.#running = this.#loop();
  }

  /** Takes one rejection for the store. Synchronous and O(1): safe in a source's hot path. */
  offer(event: RejectionEvent): void {
    const { source, rejection } = event;
    const table = this.#o.tableOf(source);
    if (table === undefined) return this.#lose(source, 'no_table', { origin: rejection.origin });
    if (this.#stopping) return this.#lose(source, 'shutdown', { origin: rejection.origin });
    const cut = rejection.payload.length > this.#o.maxPayloadChars;
    const payload = cut ? detached(rejection.payload.slice(0, this.#o.maxPayloadChars)) : rejection.payload;
    const bytes = payload.length + rejection.reason.length + rejection.origin.length + source.length + ENTRY_OVERHEAD_BYTES;
    const { maxEntries, maxBytes } = this.#o.backlog;
    if (this.#backlog.length >= maxEntries || (this.#backlog.length > 0 && this.#bytes + bytes > maxBytes)) {
      return this.#lose(source, 'backlog_full', { backlog: this.#backlog.length, backlogBytes: this.#bytes });
    }
    this.#seq += 1;
    const entry: PayloadDeadLetterInput = {
      kind: 'payload',
      id: `${this.#o.idPrefix}-${String(this.#seq).padStart(ID_SEQ_DIGITS, '0')}`,
      table,
      source,
      origin: rejection.origin,
      reasonKind: rejection.kind ?? DEFAULT_REJECTION_KIND,
      reason: rejection.reason,
      payload,
      payloadTruncated: cut,
      receivedAtMs: event.atMs,
    };
    this.#backlog.push({ entry, bytes });
    this.#bytes += bytes;
    this.#o.metrics.deadLetterBacklog.set(this.#backlog.length);
    this.#waker.wake();
  }

  /** Stored since start for one source. */
  stored(source: string): number {
    return this.#stored.get(source) ?? 0;
  }

  status(): DeadLetterStatus {
    return {
      stored: [...this.#stored.values()].reduce((a, b) => a + b, 0),
      lost: Object.fromEntries(this.#lost),
      backlog: { entries: this.#backlog.length, bytes: this.#bytes, maxEntries: this.#o.backlog.maxEntries, maxBytes: this.#o.backlog.maxBytes },
      storeFull: this.#storeFull,
      redis: {
        connected: this.#o.connected(),
        consecutiveFailures: this.#failures,
        ...(this.#lastError !== undefined ? { lastError: this.#lastError, lastErrorAt: this.#lastErrorAt } : {}),
      },
    };
  }

  /** Keeps writing for up to timeoutMs, then counts what is left as lost (shutdown). Safe twice. */
  stop(timeoutMs: number): Promise<void> {
    this.#stopping ??= this.#stop(timeoutMs);
    return this.#stopping;
  }

  async #stop(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    // Try at once rather than at the end of a long backoff: Redis may be back.
    this.#nextAttemptAt = 0;
    this.#waker.wake();
    while (this.#backlog.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, Math.min(STOP_POLL_MS, Math.max(0, deadline - Date.now()))));
    }
    this.#closed = true;
    this.#waker.wake();
    await this.#running;
    this.#limiter.flush();
    const left = new Map<string, number>();
    for (const { entry } of this.#backlog.splice(0)) left.set(entry.source, (left.get(entry.source) ?? 0) + 1);
    this.#bytes = 0;
    this.#o.metrics.deadLetterBacklog.set(0);
    for (const [source, count] of left) {
      this.#lost.set('shutdown', (this.#lost.get('shutdown') ?? 0) + count);
      this.#o.metrics.deadLettersLost.inc({ source, reason: 'shutdown' }, count);
      // Final: logged at once, not on a timer that will not fire.
      this.#o.log.error({ reason: 'shutdown', count, source, lastError: this.#lastError }, LOSS_MESSAGES.shutdown);
    }
  }

  async #loop(): Promise<void> {
    while (!this.#closed) {
      const waitMs = this.#nextAttemptAt - Date.now();
      if (this.#backlog.length === 0 || waitMs > 0) {
        await this.#waker.idle(this.#backlog.length === 0 ? undefined : waitMs);
        continue;
      }
      // While Redis fails, one entry probes; the rest wait their turn in order.
      await this.#write(this.#backlog.slice(0, this.#failures > 0 ? 1 : DLQ_WRITE_WINDOW));
    }
  }

  async #write(window: Pending[]): Promise<void> {
    const results = await Promise.allSettled(window.map((p) => this.#o.store.add(p.entry)));
    const kept: Pending[] = [];
    let retryable: Error | undefined;
    results.forEach((result, i) => {
      const pending = window[i] as Pending;
      const { source, reasonKind } = pending.entry;
      if (result.status === 'fulfilled') {
        // stored false: an earlier try that timed out had landed; it is stored once.
        this.#stored.set(source, this.stored(source) + 1);
        this.#o.metrics.recordsDeadLettered.inc({ source, kind: reasonKind });
        this.#storeFull = false;
      } else if (result.reason instanceof DeadLetterStoreFullError) {
        this.#storeFull = true;
        this.#lose(source, 'dlq_full', { entries: result.reason.entries, bytes: result.reason.bytes });
      } else if (result.reason instanceof ZodError) {
        this.#lose(source, 'invalid_entry', { error: result.reason.message, origin: pending.entry.origin });
      } else {
        retryable = result.reason as Error;
        kept.push(pending);
      }
    });
    this.#backlog.splice(0, window.length, ...kept);
    this.#bytes -= window.reduce((n, p) => n + p.bytes, 0) - kept.reduce((n, p) => n + p.bytes, 0);
    this.#o.metrics.deadLetterBacklog.set(this.#backlog.length);
    if (retryable) this.#failed(retryable);
    else if (this.#failures > 0) {
      this.#o.log.info({ failedAttempts: this.#failures, backlog: this.#backlog.length }, 'Writing dead letters to Redis again.');
      this.#failures = 0;
      this.#nextAttemptAt = 0;
    }
  }

  #failed(err: Error): void {
    this.#failures += 1;
    this.#lastError = err.message;
    this.#lastErrorAt = new Date().toISOString();
    this.#nextAttemptAt = Date.now() + backoffDelayMs(this.#o.backoff, this.#failures);
    if (this.#failures === 1) {
      this.#o.log.warn({ err, backlog: this.#backlog.length, backlogMaxEntries: this.#o.backlog.maxEntries }, 'Cannot write dead letters to Redis; keeping them in memory and retrying.');
    }
  }

  #lose(source: string, reason: DeadLetterLossReason, context: Record<string, unknown>): void {
    this.#lost.set(reason, (this.#lost.get(reason) ?? 0) + 1);
    this.#o.metrics.deadLettersLost.inc({ source, reason });
    this.#limiter.hit(reason, (count) => this.#o.log.error({ reason, count, source, ...context }, LOSS_MESSAGES[reason]));
  }
}
