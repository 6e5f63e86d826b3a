import { describe, expect, it } from 'vitest';
import { planReads, type Span } from './plan.ts';

const limits = { maxRegisters: 125, maxBits: 2000, maxGap: 0 };
const tag = (registerType: Span['registerType'], address: number, width = 1): Span => ({ registerType, address, width });
const shape = (spans: Span[], l = limits) => planReads(spans, l).map((r) => [r.registerType, r.address, r.count, r.tags.length]);

describe('planReads', () => {
  it('merges adjacent tags into one request', () => {
    expect(shape([tag('holding', 0, 2), tag('holding', 2, 2), tag('holding', 4)])).toEqual([['holding', 0, 5, 3]]);
  });

  it('keeps tags apart across a gap unless max gap allows it', () => {
    const spans = [tag('holding', 0, 2), tag('holding', 5, 2)];
    expect(shape(spans)).toEqual([
      ['holding', 0, 2, 1],
      ['holding', 5, 2, 1],
    ]);
    expect(shape(spans, { ...limits, maxGap: 3 })).toEqual([['holding', 0, 7, 2]]);
    expect(shape(spans, { ...limits, maxGap: 2 })).toHaveLength(2);
  });

  it('never merges different register types, even at the same address', () => {
    expect(shape([tag('input', 0), tag('holding', 1), tag('holding', 0), tag('coil', 0), tag('discrete_input', 1)])).toEqual([
      ['coil', 0, 1, 1],
      ['discrete_input', 1, 1, 1],
      ['holding', 0, 2, 2],
      ['input', 0, 1, 1],
    ]);
  });

  it('splits a range at the span limit', () => {
    const spans = Array.from({ length: 100 }, (_, i) => tag('input', i * 2, 2));
    expect(shape(spans)).toEqual([
      ['input', 0, 124, 62],
      ['input', 124, 76, 38],
    ]);
    expect(shape(spans, { ...limits, maxRegisters: 50 }).map((r) => r[2])).toEqual([50, 50, 50, 50]);
  });

  it('reads up to 2000 coils at once and splits beyond', () => {
    const coils = Array.from({ length: 2500 }, (_, i) => tag('coil', i));
    expect(shape(coils)).toEqual([
      ['coil', 0, 2000, 2000],
      ['coil', 2000, 500, 500],
    ]);
  });

  it('covers overlapping tags once', () => {
    expect(shape([tag('holding', 0, 4), tag('holding', 1, 2), tag('holding', 3)])).toEqual([['holding', 0, 4, 3]]);
  });

  it('orders tags by address whatever the config order', () => {
    const requests = planReads([tag('holding', 4), tag('holding', 0, 2), tag('holding', 2, 2)], limits);
    expect(requests[0]?.tags.map((t) => t.address)).toEqual([0, 2, 4]);
  });

  it('plans 50 tags over 3 ranges as 3 requests, and 4 with a 40-register limit', () => {
    const spans = [
      ...Array.from({ length: 20 }, (_, i) => tag('holding', i * 2, 2)),
      ...Array.from({ length: 20 }, (_, i) => tag('holding', 1000 + i)),
      ...Array.from({ length: 10 }, (_, i) => tag('input', 500 + i * 4, 4)),
    ];
    expect(shape(spans)).toEqual([
      ['holding', 0, 40, 20],
      ['holding', 1000, 20, 20],
      ['input', 500, 40, 10],
    ]);
    expect(shape(spans, { ...limits, maxRegisters: 30 })).toEqual([
      ['holding', 0, 30, 15],
      ['holding', 30, 10, 5],
      ['holding', 1000, 20, 20],
      ['input', 500, 28, 7],
      ['input', 528, 12, 3],
    ]);
  });
});
