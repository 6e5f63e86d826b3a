/**
 * A sleep another part of the code can cut short: a background loop waits in idle() until
 * wake() (new work, stop) or, with ms, until then. One sleeper at a time; a wake() with
 * nobody asleep is a no-op, so the loop checks its work before it sleeps.
 */
export class Waker {
  #wake: (() => void) | undefined;

  idle(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        if (this.#wake === done) this.#wake = undefined;
        resolve();
      };
      if (ms !== undefined) timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  wake(): void {
    this.#wake?.();
  }
}
