import type { Batch } from './batcher.ts';

/** Sent slots at the front of the array that are removed in one go once they are half of it. */
const COMPACT_AFTER_SHIFTS = 1024;

/** A batch with the job id it keeps through every retry, so a retried add is not a second job. */
export interface PendingBatch {
  batch: Batch;
  jobId: string;
  createdAtMs: number;
}

export interface PendingLimits {
  maxBatches: number;
  /** Sum of the batches' wire bytes. */
  maxBytes: number;
}

/**
 * Batches waiting for Redis, oldest first, within fixed bounds. When a batch would overflow
 * them it is refused (drop newest): what is already waiting keeps its order and is sent first.
 */
export class PendingList {
  readonly #limits: PendingLimits;
  readonly #items: PendingBatch[] = [];
  #head = 0;
  #bytes = 0;
  #records = 0;

  constructor(limits: PendingLimits) {
    this.#limits = limits;
  }

  /** False when the batch would overflow the bounds; the caller counts and reports the drop. */
  push(item: PendingBatch): boolean {
    if (this.size >= this.#limits.maxBatches) return false;
    if (this.size > 0 && this.#bytes + item.batch.bytes > this.#limits.maxBytes) return false;
    this.#items.push(item);
    this.#bytes += item.batch.bytes;
    this.#records += item.batch.records.length;
    return true;
  }

  peek(): PendingBatch | undefined {
    return this.#items[this.#head];
  }

  shift(): PendingBatch | undefined {
    const item = this.#items[this.#head];
    if (!item) return undefined;
    this.#items[this.#head] = undefined as unknown as PendingBatch;
    this.#head += 1;
    this.#bytes -= item.batch.bytes;
    this.#records -= item.batch.records.length;
    // Compact now and then, so a long run does not keep a growing array of holes.
    if (this.#head > COMPACT_AFTER_SHIFTS && this.#head * 2 > this.#items.length) {
      this.#items.splice(0, this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Removes and returns everything still waiting. */
  drain(): PendingBatch[] {
    const rest = this.#items.slice(this.#head);
    this.#items.length = 0;
    this.#head = 0;
    this.#bytes = 0;
    this.#records = 0;
    return rest;
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get records(): number {
    return this.#records;
  }
}
