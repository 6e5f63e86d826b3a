import { describe, expect, it } from 'vitest';
import { FairQueue } from './queue.ts';

describe('FairQueue', () => {
  it('serves the device lines in turn, whatever their length', () => {
    const q = new FairQueue<string>();
    for (const item of ['a1', 'a2', 'a3']) q.push('a', item);
    q.push('b', 'b1');
    q.push('c', 'c1');
    q.push('c', 'c2');
    const order: string[] = [];
    for (let item = q.shift(); item !== undefined; item = q.shift()) order.push(item);
    expect(order).toEqual(['a1', 'b1', 'c1', 'a2', 'c2', 'a3']);
    expect(q.size).toBe(0);
  });

  it('puts priority items before every line', () => {
    const q = new FairQueue<string>();
    q.push('a', 'a1');
    q.pushPriority('w1');
    q.push('b', 'b1');
    q.pushPriority('w2');
    expect([q.shift(), q.shift(), q.shift(), q.shift(), q.shift()]).toEqual(['w1', 'w2', 'a1', 'b1', undefined]);
  });

  it('keeps its turn after a line empties and refills', () => {
    const q = new FairQueue<string>();
    q.push('a', 'a1');
    q.push('b', 'b1');
    expect(q.shift()).toBe('a1');
    q.push('a', 'a2');
    expect([q.shift(), q.shift()]).toEqual(['b1', 'a2']);
  });

  it('drains everything, priority first', () => {
    const q = new FairQueue<string>();
    q.push('a', 'a1');
    q.pushPriority('w1');
    q.push('b', 'b1');
    expect(q.drain()).toEqual(['w1', 'a1', 'b1']);
    expect(q.size).toBe(0);
    expect(q.shift()).toBeUndefined();
  });
});
