import { describe, expect, it } from 'vitest';
import { Waker } from './waker.ts';

describe('Waker', () => {
  it('ends an idle() without a time limit only on wake()', async () => {
    const waker = new Waker();
    let woken = false;
    const idle = waker.idle().then(() => (woken = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(woken).toBe(false);
    waker.wake();
    await idle;
    expect(woken).toBe(true);
  });

  it('ends an idle(ms) by itself, and a later wake() with nobody asleep does nothing', async () => {
    const waker = new Waker();
    const started = Date.now();
    await waker.idle(15);
    expect(Date.now() - started).toBeGreaterThanOrEqual(10);
    expect(() => waker.wake()).not.toThrow();
  });

  it('ends an idle(ms) early on wake()', async () => {
    const waker = new Waker();
    const started = Date.now();
    const idle = waker.idle(60_000);
    waker.wake();
    await idle;
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
