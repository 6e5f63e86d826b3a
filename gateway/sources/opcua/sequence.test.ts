import { describe, expect, it } from 'vitest';
import { distance, isAfter, missingBefore, nextSequence, previousSequence } from './sequence.ts';

const MAX = 0xffff_ffff;

describe('notification sequence numbers', () => {
  it('wraps from 2^32-1 to 1, never 0', () => {
    expect(nextSequence(5)).toBe(6);
    expect(nextSequence(MAX)).toBe(1);
    expect(previousSequence(1)).toBe(MAX);
    expect(distance(MAX - 1, 2)).toBe(3);
  });

  it('orders numbers across the wrap', () => {
    expect(isAfter(2, MAX)).toBe(true);
    expect(isAfter(MAX, 2)).toBe(false);
    expect(isAfter(7, 7)).toBe(false);
  });

  it.each([
    ['nothing seen yet', 0, 9, { listed: [], count: 0 }],
    ['the next one', 4, 5, { listed: [], count: 0 }],
    ['two missed', 4, 7, { listed: [5, 6], count: 2 }],
    ['missed across the wrap', MAX - 1, 2, { listed: [MAX, 1], count: 2 }],
    ['an old message', 9, 3, { listed: [], count: 0 }],
  ])('lists what is missing: %s', (_name, last, received, expected) => {
    expect(missingBefore(last, received)).toEqual(expected);
  });
});
