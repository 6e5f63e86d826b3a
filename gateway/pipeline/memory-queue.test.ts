import { describe, expect, it } from 'vitest';
import { MemoryQueue, type OverflowPolicy, type PendingBatch } from './memory-queue.ts';

const item = (n: number, bytes = 1): PendingBatch => ({
  batch: { table: 't', messageType: 'm', recordType: 'json', records: [String(n)], bytes },
  jobId: `j${n}`,
  createdAtMs: 0,
});
const queue = (policy: OverflowPolicy, maxBatches = 3, maxBytes = 100) => new MemoryQueue({ maxBatches, maxBytes, policy });
const ids = (items: PendingBatch[]) => items.map((i) => i.jobId);

describe('MemoryQueue', () => {
  it('gives batches back oldest first and tracks records and bytes', () => {
    const q = queue('drop_newest', 10);
    q.push(item(1, 10));
    q.push(item(2, 20));
    expect([q.size, q.records, q.bytes]).toEqual([2, 2, 30]);
    expect(q.peek()?.jobId).toBe('j1');
    expect(q.shift()?.jobId).toBe('j1');
    expect([q.size, q.bytes]).toEqual([1, 20]);
    expect(ids(q.drain())).toEqual(['j2']);
    expect([q.size, q.records, q.bytes]).toEqual([0, 0, 0]);
  });

  it.each<[OverflowPolicy, boolean, string[], string[]]>([
    ['drop_newest', false, ['j4'], ['j1', 'j2', 'j3']],
    ['drop_oldest', true, ['j1'], ['j2', 'j3', 'j4']],
    ['block', false, ['j4'], ['j1', 'j2', 'j3']],
  ])('at the batch bound, %s accepts=%s and drops %j', (policy, accepted, dropped, kept) => {
    const q = queue(policy);
    [1, 2, 3].forEach((n) => q.push(item(n)));
    const result = q.push(item(4));
    expect([result.accepted, ids(result.dropped)]).toEqual([accepted, dropped]);
    expect(ids(q.drain())).toEqual(kept);
  });

  it('drop_oldest evicts as many old batches as the byte bound needs, and never a pinned one', () => {
    const q = queue('drop_oldest', 10, 10);
    [1, 2, 3].forEach((n) => q.push(item(n, 3)));
    q.pin(1);
    const result = q.push(item(4, 6));
    expect([result.accepted, ids(result.dropped)]).toEqual([true, ['j2', 'j3']]);
    expect(ids(q.drain())).toEqual(['j1', 'j4']);
  });

  it('drop_oldest refuses the batch when only pinned batches are left to evict', () => {
    const q = queue('drop_oldest', 2);
    q.push(item(1));
    q.push(item(2));
    q.pin(2);
    expect(ids(q.push(item(3)).dropped)).toEqual(['j3']);
    q.shift();
    q.unpin();
    expect(q.push(item(4)).accepted).toBe(true);
  });

  it('takes a batch larger than maxBytes only when the queue is empty', () => {
    const q = queue('drop_newest', 10, 5);
    expect(q.push(item(1, 50)).accepted).toBe(true);
    expect(q.push(item(2, 1)).accepted).toBe(false);
    expect(q.fill()).toBe(10);
  });

  it('hands out a head prefix by bytes, at least one batch', () => {
    const q = queue('drop_newest', 10, 1000);
    [1, 2, 3].forEach((n) => q.push(item(n, 40)));
    expect(ids(q.peekMany(90))).toEqual(['j1', 'j2']);
    expect(ids(q.peekMany(10))).toEqual(['j1']);
  });

  it('keeps order across many pushes and shifts', () => {
    const q = queue('drop_newest', 5000, 1e9);
    const out: number[] = [];
    for (let i = 0; i < 4000; i++) {
      q.push(item(i));
      if (i % 3 !== 0) out.push(Number(q.shift()?.batch.records[0]));
    }
    out.push(...q.drain().map((p) => Number(p.batch.records[0])));
    expect(out).toEqual(Array.from({ length: 4000 }, (_, i) => i));
  });
});
