import type { Batch } from './batcher.ts';

/** Sent slots at the front of the array that are removed in one go once they are half of it. */
const COMPACT_AFTER_SHIFTS = 1024;

/** What a bounded buffer does with a batch that does not fit. */
export type OverflowPolicy = 'drop_oldest' | 'drop_newest' | 'block';
export const OVERFLOW_POLICIES = ['drop_oldest', 'drop_newest', 'block'] as const;

/** A batch with the job id it keeps through every retry, restart and spool, so a re-add is not a second job. */
export interface PendingBatch {
  batch: Batch;
  jobId: string;
  createdAtMs: number;
}

export interface QueueLimits {
  maxBatches: number;
  /** Sum of the batches' wire bytes. */
  maxBytes: number;
  policy: OverflowPolicy;
}

export interface PushResult {
  accepted: boolean;
  /** Batches that left the queue unsent to make room (drop_oldest), or the refused batch itself. */
  dropped: PendingBatch[];
}

/**
 * Batches waiting in memory, oldest first, within fixed bounds. A prefix at the head can be
 * pinned while it is being written (to Redis or the spool); pinned batches are never evicted.
 * At the bound: drop_newest refuses the batch; drop_oldest evicts the oldest unpinned batches
 * until it fits; block refuses it too, and the caller has asked the sources to pause before
 * the bound was reached (see Enqueuer). A batch larger than maxBytes is taken when nothing
 * else is waiting, so a batch is never refused only for its size.
 */
export class MemoryQueue {
  readonly #limits: QueueLimits;
  readonly #items: PendingBatch[] = [];
  #head = 0;
  #pinned = 0;
  #bytes = 0;
  #records = 0;

  constructor(limits: QueueLimits) {
    this.#limits = limits;
  }

  get limits(): QueueLimits {
    return this.#limits;
  }

  push(item: PendingBatch): PushResult {
    const dropped: PendingBatch[] = [];
    while (!this.#fits(item)) {
      if (this.#limits.policy !== 'drop_oldest' || this.size === this.#pinned) return { accepted: false, dropped: [...dropped, item] };
      dropped.push(this.#removeAt(this.#head + this.#pinned));
    }
    this.#items.push(item);
    this.#bytes += item.batch.bytes;
    this.#records += item.batch.records.length;
    return { accepted: true, dropped };
  }

  peek(): PendingBatch | undefined {
    return this.#items[this.#head];
  }

  /** The oldest batches, up to maxBytes (at least one), without removing them. */
  peekMany(maxBytes: number): PendingBatch[] {
    const out: PendingBatch[] = [];
    let bytes = 0;
    for (let i = this.#head; i < this.#items.length; i++) {
      const item = this.#items[i] as PendingBatch;
      if (out.length > 0 && bytes + item.batch.bytes > maxBytes) break;
      out.push(item);
      bytes += item.batch.bytes;
    }
    return out;
  }

  /** Protects the first n batches from eviction while they are being written. */
  pin(n: number): void {
    this.#pinned = Math.min(n, this.size);
  }

  unpin(): void {
    this.#pinned = 0;
  }

  /** Removes the oldest batch (unpinning it if pinned). */
  shift(): PendingBatch | undefined {
    const item = this.#items[this.#head];
    if (!item) return undefined;
    this.#items[this.#head] = undefined as unknown as PendingBatch;
    this.#head += 1;
    if (this.#pinned > 0) this.#pinned -= 1;
    this.#account(item, -1);
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
    this.#pinned = 0;
    this.#bytes = 0;
    this.#records = 0;
    return rest;
  }

  /** Share of the bound in use, 0..1 (or more for one oversized batch), by batches or bytes. */
  fill(): number {
    return Math.max(this.size / this.#limits.maxBatches, this.#bytes / this.#limits.maxBytes);
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

  #fits(item: PendingBatch): boolean {
    if (this.size === 0) return true;
    return this.size < this.#limits.maxBatches && this.#bytes + item.batch.bytes <= this.#limits.maxBytes;
  }

  #removeAt(index: number): PendingBatch {
    const [item] = this.#items.splice(index, 1) as [PendingBatch];
    this.#account(item, -1);
    return item;
  }

  #account(item: PendingBatch, sign: 1 | -1): void {
    this.#bytes += sign * item.batch.bytes;
    this.#records += sign * item.batch.records.length;
  }
}
