/**
 * Sliding one-minute views for /status: records per second and ack latency quantiles. Pure:
 * every call takes the time, so tests use plain numbers.
 */
export const STATUS_WINDOW_MS = 60_000;
const BUCKET_MS = 1_000;
/** Latency samples kept per window; past it the oldest go first. */
export const MAX_LATENCY_SAMPLES = 4_096;

/** A count per second over the last window, in one-second buckets. */
export class RateWindow {
  readonly #windowMs: number;
  readonly #buckets = new Map<number, number>();

  constructor(windowMs = STATUS_WINDOW_MS) {
    this.#windowMs = windowMs;
  }

  add(n: number, nowMs: number): void {
    const bucket = Math.floor(nowMs / BUCKET_MS);
    this.#buckets.set(bucket, (this.#buckets.get(bucket) ?? 0) + n);
    this.#prune(nowMs);
  }

  /** Mean per second over the window. */
  perSecond(nowMs: number): number {
    this.#prune(nowMs);
    let total = 0;
    for (const n of this.#buckets.values()) total += n;
    return total / (this.#windowMs / 1000);
  }

  #prune(nowMs: number): void {
    const oldest = Math.floor((nowMs - this.#windowMs) / BUCKET_MS);
    for (const bucket of this.#buckets.keys()) if (bucket <= oldest) this.#buckets.delete(bucket);
  }
}

/** Latency samples of the last window; quantiles by nearest rank. */
export class LatencyWindow {
  readonly #windowMs: number;
  readonly #maxSamples: number;
  #samples: Array<{ atMs: number; ms: number }> = [];

  constructor(windowMs = STATUS_WINDOW_MS, maxSamples = MAX_LATENCY_SAMPLES) {
    this.#windowMs = windowMs;
    this.#maxSamples = maxSamples;
  }

  add(ms: number, nowMs: number): void {
    this.#samples.push({ atMs: nowMs, ms });
    if (this.#samples.length > this.#maxSamples) this.#samples.splice(0, this.#samples.length - this.#maxSamples);
  }

  /** The q quantile (0-1) of the window's samples, or undefined when there are none. */
  quantile(q: number, nowMs: number): number | undefined {
    const from = nowMs - this.#windowMs;
    this.#samples = this.#samples.filter((s) => s.atMs > from);
    if (this.#samples.length === 0) return undefined;
    const sorted = this.#samples.map((s) => s.ms).sort((a, b) => a - b);
    const rank = Math.max(1, Math.ceil(q * sorted.length));
    return sorted[rank - 1];
  }
}
