/**
 * The ordered list of batches handed to one table's stream and not yet durable. Offsets
 * belong to the current gRPC stream; after a recovery every batch is unsent again and is
 * resent in the same order. Pure bookkeeping, no I/O.
 */
export interface Pending<P> {
  payload: P;
  offset: number | undefined;
  sentAtMs: number;
  resolve(): void;
  reject(err: Error): void;
}

export class InflightBatches<P> {
  readonly #items: Pending<P>[] = [];
  #sent = 0;

  get size(): number {
    return this.#items.length;
  }

  /** Sent on the current stream and awaiting an ack. */
  get inflight(): number {
    return this.#sent;
  }

  get unsent(): number {
    return this.#items.length - this.#sent;
  }

  add(item: Omit<Pending<P>, 'offset' | 'sentAtMs'>): void {
    this.#items.push({ ...item, offset: undefined, sentAtMs: 0 });
  }

  /** The next batch to send, given its offset on the current stream. */
  markNextSent(offset: number, nowMs: number): Pending<P> | undefined {
    const item = this.#items[this.#sent];
    if (!item) return undefined;
    item.offset = offset;
    item.sentAtMs = nowMs;
    this.#sent++;
    return item;
  }

  /** Removes and returns every sent batch with offset <= ackedOffset (acks are cumulative). */
  ackUpTo(ackedOffset: number): Pending<P>[] {
    let count = 0;
    while (count < this.#sent) {
      const offset = this.#items[count]?.offset;
      if (offset === undefined || offset > ackedOffset) break;
      count++;
    }
    this.#sent -= count;
    return this.#items.splice(0, count);
  }

  /** A new stream starts: every remaining batch will be sent again, in order. */
  resetForResend(): number {
    const resent = this.#sent;
    for (const item of this.#items) item.offset = undefined;
    this.#sent = 0;
    return resent;
  }

  /** Removes the batches that were sent on the current stream (they share its failure). */
  takeSent(): Pending<P>[] {
    const taken = this.#items.splice(0, this.#sent);
    this.#sent = 0;
    return taken;
  }

  takeAll(): Pending<P>[] {
    this.#sent = 0;
    return this.#items.splice(0, this.#items.length);
  }
}
