import { describe, expect, it } from 'vitest';
import { isolateBadRecords, type RangeSender } from './isolate.ts';
import { ZerobusError } from './zerobus/errors.ts';

const refused = (message = 'bad record') => new ZerobusError(message, { code: 'INVALID_ARGUMENT', retryable: false, scope: 'request' });

/** A fake service that refuses any request holding one of the bad positions, and lands nothing of it. */
function service(bad: number[]) {
  const landed: number[] = [];
  const calls: number[][] = [];
  const send: RangeSender = async (indexes) => {
    calls.push(indexes);
    const hit = indexes.find((i) => bad.includes(i));
    if (hit !== undefined) throw refused(`record ${hit} is bad`);
    landed.push(...indexes);
  };
  return { send, landed, calls };
}

const options = { maxSends: 1_000, maxPayloadBytes: 1_000_000, sizeOf: () => 100 };

describe('isolateBadRecords', () => {
  it('lands 497 of 500 and pins each of 3 bad records with its refusal', async () => {
    const s = service([17, 250, 499]);
    const result = await isolateBadRecords(500, s.send, options);
    expect(result.landed).toBe(497);
    expect(result.rejected).toEqual([
      { indexes: [17], error: { code: 'INVALID_ARGUMENT', message: 'record 17 is bad' }, disposition: 'rejected' },
      { indexes: [250], error: { code: 'INVALID_ARGUMENT', message: 'record 250 is bad' }, disposition: 'rejected' },
      { indexes: [499], error: { code: 'INVALID_ARGUMENT', message: 'record 499 is bad' }, disposition: 'rejected' },
    ]);
    expect(s.landed.sort((a, b) => a - b)).toEqual(Array.from({ length: 500 }, (_, i) => i).filter((i) => ![17, 250, 499].includes(i)));
    // Bisection: about 2 sends per level per bad record, never one per record.
    expect(result.sends).toBeLessThan(60);
  });

  it('lands an innocent batch with one send', async () => {
    const s = service([]);
    expect(await isolateBadRecords(500, s.send, options)).toEqual({ landed: 500, rejected: [], sends: 1 });
  });

  it('ends when every record is bad, with one group per record', async () => {
    const s = service([0, 1, 2, 3, 4, 5, 6]);
    const result = await isolateBadRecords(7, s.send, options);
    expect(result.landed).toBe(0);
    expect(result.rejected.map((g) => g.indexes)).toEqual([[0], [1], [2], [3], [4], [5], [6]]);
    expect(result.sends).toBe(13);
  });

  it('stops at its send budget and returns what is unresolved as one group', async () => {
    const s = service([3, 9]);
    const result = await isolateBadRecords(16, s.send, { ...options, maxSends: 4 });
    expect(result.sends).toBe(4);
    const unresolved = result.rejected.filter((g) => g.disposition === 'isolation_budget_exhausted');
    expect(unresolved).toHaveLength(1);
    expect(unresolved[0]?.error.message).toContain('used its 4 sends');
    // Nothing is lost: every position either landed or is in a group, exactly once.
    const all = [...s.landed, ...result.rejected.flatMap((g) => g.indexes)].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 16 }, (_, i) => i));
  });

  it('dead-letters everything left when the stream itself is refused', async () => {
    let calls = 0;
    const send: RangeSender = async () => {
      calls++;
      if (calls === 1) throw refused();
      throw new ZerobusError('no MODIFY on the table', { code: 'PERMISSION_DENIED', retryable: false, scope: 'stream' });
    };
    const result = await isolateBadRecords(10, send, options);
    expect(result.landed).toBe(0);
    expect(result.rejected).toEqual([{ indexes: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], error: { code: 'PERMISSION_DENIED', message: 'no MODIFY on the table' }, disposition: 'rejected' }]);
  });

  it('throws a temporary error for the job to retry', async () => {
    const send: RangeSender = async () => {
      throw new ZerobusError('down', { code: 'UNAVAILABLE', retryable: true });
    };
    await expect(isolateBadRecords(10, send, options)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('splits a range larger than one call before sending, and refuses a single record larger than one call', async () => {
    const s = service([]);
    const sizes = [400, 400, 400, 1_500, 400];
    const result = await isolateBadRecords(5, s.send, { ...options, maxPayloadBytes: 1_000, sizeOf: (i) => sizes[i] ?? 0 });
    expect(result.landed).toBe(4);
    expect(result.rejected).toEqual([{ indexes: [3], error: expect.objectContaining({ code: 'BATCH_TOO_LARGE' }), disposition: 'rejected' }]);
    for (const call of s.calls) expect(call.reduce((n, i) => n + (sizes[i] ?? 0), 0)).toBeLessThanOrEqual(1_000);
  });
});
