/**
 * NotificationMessage sequence numbers (OPC UA Part 4, 5.13.1): per subscription, start at 1,
 * increase by one per message with data, and wrap from 2^32-1 back to 1 (0 is never used).
 * A keep-alive carries the number the next data message will get. Pure.
 */
const MAX_SEQUENCE = 0xffff_ffff;
const HALF_RANGE = 0x8000_0000;
/** Missing messages listed one by one up to this many; beyond it only counted. */
export const MAX_LISTED_MISSING = 10_000;

export function nextSequence(seq: number): number {
  return seq >= MAX_SEQUENCE ? 1 : seq + 1;
}

export function previousSequence(seq: number): number {
  return seq <= 1 ? MAX_SEQUENCE : seq - 1;
}

/** Steps from a to b going forward (with wrap); 0 when equal. */
export function distance(a: number, b: number): number {
  if (b >= a) return b - a;
  return MAX_SEQUENCE - a + b;
}

/** b comes after a (within half the range, so a stale message is not mistaken for a new one). */
export function isAfter(b: number, a: number): boolean {
  const d = distance(a, b);
  return d > 0 && d < HALF_RANGE;
}

/**
 * The sequence numbers between the last one seen and a data message just received, i.e. the
 * messages not received. `last` 0 means none seen yet: nothing can be missing.
 */
export function missingBefore(last: number, received: number): { listed: number[]; count: number } {
  if (last === 0 || !isAfter(received, last)) return { listed: [], count: 0 };
  const count = distance(last, received) - 1;
  const listed: number[] = [];
  for (let s = nextSequence(last); listed.length < Math.min(count, MAX_LISTED_MISSING); s = nextSequence(s)) listed.push(s);
  return { listed, count };
}
