import { describe, expect, it } from 'vitest';
import { PendingList, type PendingBatch } from './pending.ts';

const item = (n: number, bytes = 1): PendingBatch => ({
  batch: { table: 't', messageType: 'm', recordType: 'json', records: [String(n)], bytes },
  jobId: `j${n}`,
  createdAtMs: 0,
});

describe('PendingList', () => {
  it('gives batches back oldest first and tracks records and bytes', () => {
    const list = new PendingList({ maxBatches: 10, maxBytes: 100 });
    list.push(item(1, 10));
    list.push(item(2, 20));
    expect([list.size, list.records, list.bytes]).toEqual([2, 2, 30]);
    expect(list.peek()?.jobId).toBe('j1');
    expect(list.shift()?.jobId).toBe('j1');
    expect([list.size, list.bytes]).toEqual([1, 20]);
    expect(list.drain().map((i) => i.jobId)).toEqual(['j2']);
    expect([list.size, list.records, list.bytes]).toEqual([0, 0, 0]);
  });

  it('refuses the newest batch when full, and takes one again after a shift', () => {
    const list = new PendingList({ maxBatches: 2, maxBytes: 100 });
    expect([list.push(item(1)), list.push(item(2)), list.push(item(3))]).toEqual([true, true, false]);
    list.shift();
    expect(list.push(item(4))).toBe(true);
    expect(list.drain().map((i) => i.jobId)).toEqual(['j2', 'j4']);
  });

  it('takes a batch larger than maxBytes only when the list is empty', () => {
    const list = new PendingList({ maxBatches: 10, maxBytes: 5 });
    expect(list.push(item(1, 50))).toBe(true);
    expect(list.push(item(2, 1))).toBe(false);
  });

  it('keeps order across many pushes and shifts', () => {
    const list = new PendingList({ maxBatches: 5000, maxBytes: 1e9 });
    const out: number[] = [];
    for (let i = 0; i < 4000; i++) {
      list.push(item(i));
      if (i % 3 !== 0) out.push(Number(list.shift()?.batch.records[0]));
    }
    out.push(...list.drain().map((p) => Number(p.batch.records[0])));
    expect(out).toEqual(Array.from({ length: 4000 }, (_, i) => i));
  });
});
