import type { Logger } from '../../common/logger.ts';
import type { Rejection } from '../sources/types.ts';
import { LogLimiter } from './log-limiter.ts';
import type { PipelineMetrics } from './metrics.ts';

/** Rejections kept per source for the status page, newest last (every one also goes to the dead-letter store). */
export const REJECTIONS_KEPT_PER_SOURCE = 20;
/** At most one warning line per source per interval; it carries the count since the last one. */
export const REJECTION_LOG_INTERVAL_MS = 5_000;
/** A kept payload is cut to this many characters, so a flood of large payloads stays small. */
export const MAX_KEPT_PAYLOAD_CHARS = 1_024;
export const DEFAULT_REJECTION_KIND = 'invalid_payload';

export interface KeptRejection {
  at: string;
  origin: string;
  kind: string;
  reason: string;
  payload: string;
  payloadTruncated: boolean;
}

/**
 * A copy of text that holds no reference to a longer string it was cut from. V8 may keep a
 * short slice as a view of its parent, so a kept 1 KiB cut of a 10 MiB payload would keep the
 * 10 MiB alive; this copies the characters out.
 */
export function detached(text: string): string {
  return Buffer.from(text, 'utf16le').toString('utf16le');
}

/** A rejection as it happened, for a listener that forwards it (e.g. to the dead-letter store). */
export interface RejectionEvent {
  source: string;
  rejection: Rejection;
  atMs: number;
}

/** Counts, keeps and reports payloads the sources could not turn into readings. */
export class RejectionStore {
  readonly #listeners = new Set<(event: RejectionEvent) => void>();
  readonly #log: Logger;
  readonly #metrics: PipelineMetrics;
  readonly #limiter = new LogLimiter(REJECTION_LOG_INTERVAL_MS);
  readonly #recent = new Map<string, KeptRejection[]>();
  readonly #counts = new Map<string, number>();

  constructor(log: Logger, metrics: PipelineMetrics) {
    this.#log = log;
    this.#metrics = metrics;
  }

  /** Calls listener with every rejection from now on, full payload included; returns the unsubscribe. */
  subscribe(listener: (event: RejectionEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  record(source: string, rejection: Rejection): void {
    const kind = rejection.kind ?? DEFAULT_REJECTION_KIND;
    const event = { source, rejection, atMs: Date.now() };
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (err) {
        this.#log.warn({ err, source }, 'A rejection listener failed; the rejection is still counted and kept.');
      }
    }
    this.#counts.set(source, this.count(source) + 1);
    this.#metrics.recordsRejected.inc({ source, reason: kind });
    const kept = this.#recent.get(source) ?? [];
    const cut = rejection.payload.length > MAX_KEPT_PAYLOAD_CHARS;
    kept.push({
      at: new Date().toISOString(),
      origin: rejection.origin,
      kind,
      reason: rejection.reason,
      payload: cut ? detached(rejection.payload.slice(0, MAX_KEPT_PAYLOAD_CHARS)) : rejection.payload,
      payloadTruncated: cut,
    });
    if (kept.length > REJECTIONS_KEPT_PER_SOURCE) kept.shift();
    this.#recent.set(source, kept);
    this.#limiter.hit(source, (count) =>
      this.#log.warn({ source, count, kind, reason: rejection.reason, origin: rejection.origin }, 'Rejected payloads that could not become readings.'),
    );
  }

  count(source: string): number {
    return this.#counts.get(source) ?? 0;
  }

  recent(source: string): KeptRejection[] {
    return [...(this.#recent.get(source) ?? [])];
  }

  /** Writes any warning still held back by the rate limit. */
  flush(): void {
    this.#limiter.flush();
  }
}
