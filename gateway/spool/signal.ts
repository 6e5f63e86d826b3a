/** Something to wait for: every wait() before the next fire() resolves at that fire(). */
export class Signal {
  #pending: { promise: Promise<void>; resolve: () => void } | undefined;

  wait(): Promise<void> {
    if (!this.#pending) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.#pending = { promise, resolve };
    }
    return this.#pending.promise;
  }

  fire(): void {
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.resolve();
  }
}
