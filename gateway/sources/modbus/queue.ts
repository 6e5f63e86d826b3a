/**
 * The requests waiting for one connection. Each device has its own line and the connection
 * takes one request from each line in turn, so a device with many requests, or a slow one,
 * waits its turn like the others. Priority items (writes) go before every line.
 */
export class FairQueue<T> {
  readonly #lines = new Map<string, T[]>();
  readonly #keys: string[] = [];
  readonly #priority: T[] = [];
  #cursor = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(key: string, item: T): void {
    let line = this.#lines.get(key);
    if (!line) {
      line = [];
      this.#lines.set(key, line);
      this.#keys.push(key);
    }
    line.push(item);
    this.#size++;
  }

  pushPriority(item: T): void {
    this.#priority.push(item);
    this.#size++;
  }

  /** The next item: a priority one, else the head of the next non-empty line after the last one served. */
  shift(): T | undefined {
    const urgent = this.#priority.shift();
    if (urgent !== undefined) {
      this.#size--;
      return urgent;
    }
    const n = this.#keys.length;
    for (let i = 0; i < n; i++) {
      const index = (this.#cursor + i) % n;
      const line = this.#lines.get(this.#keys[index] as string);
      if (line && line.length > 0) {
        this.#cursor = (index + 1) % n;
        this.#size--;
        return line.shift();
      }
    }
    return undefined;
  }

  /** Removes and returns every item, priority ones first. */
  drain(): T[] {
    const all = [...this.#priority.splice(0)];
    for (const line of this.#lines.values()) all.push(...line.splice(0));
    this.#size = 0;
    return all;
  }
}
