import type { Logger } from '../../common/logger.ts';
import type { Spool, SpoolDropReason } from '../spool/spool.ts';
import type { MemoryQueue, PendingBatch } from './memory-queue.ts';
import { Waker } from './waker.ts';

/** Most bytes moved from memory to the spool in one write and fsync. */
export const SPILL_CHUNK_BYTES = 4 * 1024 * 1024;
/** Under block, how soon a refused write is tried again when no space has been freed (a full disk). */
export const SPOOL_RETRY_MS = 1_000;

export interface SpillerOptions {
  spool: Spool;
  memory: MemoryQueue;
  log: Logger;
  /** Whether batches should move to the spool now (Redis failing, or the spool not yet drained). */
  canSpill(): boolean;
  onSpooled(items: PendingBatch[]): void;
  onRefused(item: PendingBatch, reason: SpoolDropReason): void;
  onProgress(): void;
}

/**
 * Moves batches from the head of the memory queue to the spool, oldest first, while spilling is
 * on. The batches stay in memory (pinned, so no policy evicts them) until the spool has
 * fsynced them; what the spool blocks stays in memory and is tried again once it frees space.
 */
export class Spiller {
  readonly #o: SpillerOptions;
  readonly #running: Promise<void>;
  #busy = false;
  #closed = false;
  readonly #waker = new Waker();

  constructor(options: SpillerOptions) {
    this.#o = options;
    this.#running = this.#loop();
  }

  /** True while a write to the spool is under way. */
  get busy(): boolean {
    return this.#busy;
  }

  wake(): void {
    this.#waker.wake();
  }

  /** Stops the loop, then spools what is left in memory, as far as the spool takes it. */
  async stop(): Promise<void> {
    this.#closed = true;
    this.wake();
    await this.#running;
    while (this.#o.memory.size > 0) {
      if (await this.#spillOnce()) break;
    }
  }

  async #loop(): Promise<void> {
    while (!this.#closed) {
      if (!this.#o.canSpill() || this.#o.memory.size === 0) {
        await this.#waker.idle();
        continue;
      }
      if (await this.#spillOnce()) {
        await Promise.race([this.#o.spool.whenSpaceFreed(), this.#waker.idle(SPOOL_RETRY_MS)]);
      }
    }
  }

  /** One write of the oldest batches; true when the spool blocked some of them. */
  async #spillOnce(): Promise<boolean> {
    const { memory, spool } = this.#o;
    const items = memory.peekMany(SPILL_CHUNK_BYTES);
    memory.pin(items.length);
    this.#busy = true;
    let result;
    try {
      result = await spool.append(items);
    } catch (err) {
      this.#o.log.error({ err }, 'Spool write failed unexpectedly; keeping the batches in memory.');
      result = { accepted: [], refused: [], blocked: items };
    } finally {
      this.#busy = false;
    }
    // Accepted and refused batches are a prefix of items; blocked ones are the rest.
    for (let k = 0; k < items.length - result.blocked.length; k++) memory.shift();
    memory.unpin();
    if (result.accepted.length > 0) this.#o.onSpooled(result.accepted);
    for (const { item, reason } of result.refused) this.#o.onRefused(item, reason);
    this.#o.onProgress();
    return result.blocked.length > 0;
  }
}
