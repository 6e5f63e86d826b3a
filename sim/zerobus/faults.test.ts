import { describe, expect, it } from 'vitest';
import { Faults, faultsSchema } from './faults.ts';

const TABLE = 'main.iot.t1';
const rows = (...tags: string[]) => tags.map((tag, i) => JSON.stringify({ seq: i + 1, tag }));

describe('Faults.violation (reject_values)', () => {
  const faults = new Faults(faultsSchema.parse({ reject_values: [{ table: TABLE, column: 'tag', value: 'bad' }] }));

  it('names the first record whose column holds a refused value', () => {
    expect(faults.violation(TABLE, rows('a', 'bad', 'c', 'bad'))).toEqual({ index: 1, column: 'tag', value: 'bad' });
  });

  it('refuses nothing in other tables or when no record matches', () => {
    expect(faults.violation('main.iot.other', rows('bad'))).toBeUndefined();
    expect(faults.violation(TABLE, rows('a', 'b'))).toBeUndefined();
  });

  it('compares numbers and strings strictly', () => {
    const numeric = new Faults(faultsSchema.parse({ reject_values: [{ table: TABLE, column: 'seq', value: 2 }] }));
    expect(numeric.violation(TABLE, rows('a', 'b'))).toEqual({ index: 1, column: 'seq', value: 2 });
    const text = new Faults(faultsSchema.parse({ reject_values: [{ table: TABLE, column: 'seq', value: '2' }] }));
    expect(text.violation(TABLE, rows('a', 'b'))).toBeUndefined();
  });

  it('is off by default', () => {
    expect(new Faults(faultsSchema.parse({})).violation(TABLE, rows('bad'))).toBeUndefined();
  });
});
