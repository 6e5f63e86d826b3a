import { describe, expect, it } from 'vitest';
import { InflightBatches } from './inflight.ts';

function batches(n: number) {
  const list = new InflightBatches<string>();
  const done: string[] = [];
  for (let i = 0; i < n; i++) list.add({ payload: `b${i}`, resolve: () => done.push(`b${i}`), reject: () => {} });
  return { list, done };
}

describe('InflightBatches', () => {
  it('acks cumulatively up to the acked offset and no further', () => {
    const { list } = batches(4);
    for (let o = 0; o < 3; o++) list.markNextSent(o, 0);
    expect(list.ackUpTo(1).map((p) => p.payload)).toEqual(['b0', 'b1']);
    expect(list.inflight).toBe(1);
    expect(list.unsent).toBe(1);
    expect(list.ackUpTo(1)).toEqual([]);
  });

  it('never acks a batch that was not sent on the current stream', () => {
    const { list } = batches(2);
    list.markNextSent(0, 0);
    expect(list.ackUpTo(5).map((p) => p.payload)).toEqual(['b0']);
    expect(list.size).toBe(1);
  });

  it('resends every unacked batch in order after a reset', () => {
    const { list } = batches(3);
    list.markNextSent(0, 0);
    list.markNextSent(1, 0);
    list.ackUpTo(0);
    expect(list.resetForResend()).toBe(1);
    expect(list.markNextSent(0, 0)?.payload).toBe('b1');
    expect(list.markNextSent(1, 0)?.payload).toBe('b2');
    expect(list.markNextSent(2, 0)).toBeUndefined();
  });

  it('takes only the sent batches when the stream fails for them', () => {
    const { list } = batches(3);
    list.markNextSent(0, 0);
    expect(list.takeSent().map((p) => p.payload)).toEqual(['b0']);
    expect(list.size).toBe(2);
    expect(list.markNextSent(0, 0)?.payload).toBe('b1');
  });
});
