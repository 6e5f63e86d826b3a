/**
 * Keeps a repeated event to at most one log line per key per interval. The first event logs at
 * once; later ones in the window are counted and reported in one trailing line at its end.
 */
export class LogLimiter {
  readonly #intervalMs: number;
  readonly #keys = new Map<string, { lastAt: number; suppressed: number; timer?: NodeJS.Timeout; write?: (n: number) => void }>();

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  /** Calls write(countSinceLastLine) now, or later once for every event of the window. */
  hit(key: string, write: (count: number) => void): void {
    const now = Date.now();
    const entry = this.#keys.get(key);
    if (!entry || now - entry.lastAt >= this.#intervalMs) {
      if (entry?.timer) clearTimeout(entry.timer);
      const count = 1 + (entry?.suppressed ?? 0);
      this.#keys.set(key, { lastAt: now, suppressed: 0 });
      write(count);
      return;
    }
    entry.suppressed += 1;
    entry.write = write;
    entry.timer ??= setTimeout(() => this.#trail(key), this.#intervalMs - (now - entry.lastAt));
  }

  /** Writes every pending trailing line now and clears the timers. */
  flush(): void {
    for (const key of this.#keys.keys()) this.#trail(key);
  }

  #trail(key: string): void {
    const entry = this.#keys.get(key);
    if (!entry) return;
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = undefined;
    if (entry.suppressed === 0 || !entry.write) return;
    const count = entry.suppressed;
    entry.suppressed = 0;
    entry.lastAt = Date.now();
    entry.write(count);
  }
}
