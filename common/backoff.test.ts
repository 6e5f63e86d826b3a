import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from './backoff.ts';

describe('backoffDelayMs', () => {
  const policy = { initialMs: 1000, maxMs: 300_000 };
  it.each([
    [1, 0, 500],
    [1, 1, 1000],
    [2, 1, 2000],
    [3, 0.5, 3000],
    [10, 1, 300_000],
    [40, 0, 150_000],
  ])('attempt %i with draw %f waits %i ms', (attempt, draw, expected) => {
    expect(backoffDelayMs(policy, attempt, draw)).toBe(expected);
  });

  it('never exceeds the maximum however many attempts', () => {
    for (let attempt = 1; attempt < 200; attempt++) expect(backoffDelayMs(policy, attempt, 1)).toBeLessThanOrEqual(300_000);
  });
});
