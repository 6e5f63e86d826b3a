import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RowStore } from './store.ts';

const TABLE = 'main.iot.t1';
const rowsOf = (from: number, count: number, writer = 'a') => Array.from({ length: count }, (_, i) => JSON.stringify({ writer, seq: from + i }));

describe('RowStore', () => {
  let dir: string;
  let store: RowStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'zerobus-store-'));
    store = new RowStore(dir, false);
    await store.init();
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('appends rows as JSON lines to <data_dir>/<table>.jsonl and counts them', async () => {
    expect(store.count(TABLE)).toBe(0);
    await store.append(TABLE, rowsOf(1, 3));
    await store.append(TABLE, rowsOf(4, 2));
    expect(store.count(TABLE)).toBe(5);
    const text = await readFile(join(dir, `${TABLE}.jsonl`), 'utf8');
    expect(text.split('\n')).toEqual([...rowsOf(1, 5), '']);
    expect(store.tables()).toEqual([{ table: TABLE, rows: 5 }]);
  });

  it('keeps each writer in order when appends interleave, and finishes them in the order they were made', async () => {
    const finished: string[] = [];
    const appends = Array.from({ length: 50 }, (_, i) => {
      const writer = i % 2 === 0 ? 'a' : 'b';
      return store.append(TABLE, rowsOf(Math.floor(i / 2) * 10, 10, writer)).then(() => finished.push(`${writer}${i}`));
    });
    await Promise.all(appends);
    expect(finished).toEqual(Array.from({ length: 50 }, (_, i) => `${i % 2 === 0 ? 'a' : 'b'}${i}`));
    const rows = (await store.rows(TABLE, 0, 10_000)) as Array<{ writer: string; seq: number }>;
    expect(rows).toHaveLength(500);
    for (const writer of ['a', 'b']) {
      expect(rows.filter((r) => r.writer === writer).map((r) => r.seq)).toEqual(Array.from({ length: 250 }, (_, i) => i));
    }
  });

  it('counts the rows already on disk after a restart', async () => {
    await store.append(TABLE, rowsOf(1, 7));
    await store.append('main.iot.t2', rowsOf(1, 2));
    await store.close();
    store = new RowStore(dir, true);
    expect(await store.init()).toEqual([]);
    expect(store.count(TABLE)).toBe(7);
    expect(store.tables()).toEqual([
      { table: TABLE, rows: 7 },
      { table: 'main.iot.t2', rows: 2 },
    ]);
    await store.append(TABLE, rowsOf(8, 1));
    expect(store.count(TABLE)).toBe(8);
  });

  it('cuts off a half-written last line at start-up so the next row starts on its own line', async () => {
    await store.append(TABLE, rowsOf(1, 2));
    await store.close();
    await appendFile(join(dir, `${TABLE}.jsonl`), '{"writer":"a","se');
    store = new RowStore(dir, false);
    expect(await store.init()).toEqual([{ table: TABLE, truncatedBytes: 17 }]);
    expect(store.count(TABLE)).toBe(2);
    await store.append(TABLE, rowsOf(3, 1));
    expect(((await store.rows(TABLE, 0, 10)) as Array<{ seq: number }>).map((r) => r.seq)).toEqual([1, 2, 3]);
  });

  it('pages through rows with offset and limit', async () => {
    await store.append(TABLE, rowsOf(0, 10));
    expect(await store.rows(TABLE, 3, 2)).toEqual([
      { writer: 'a', seq: 3 },
      { writer: 'a', seq: 4 },
    ]);
    expect(await store.rows(TABLE, 9, 5)).toEqual([{ writer: 'a', seq: 9 }]);
    expect(await store.rows('main.iot.none', 0, 5)).toEqual([]);
  });

  it('counts rows whose key repeats an earlier row as duplicates', async () => {
    await store.append(TABLE, rowsOf(1, 5, 'a'));
    await store.append(TABLE, rowsOf(4, 5, 'a'));
    await store.append(TABLE, rowsOf(1, 2, 'b'));
    expect(await store.duplicates(TABLE, ['writer', 'seq'])).toEqual({ table: TABLE, key: ['writer', 'seq'], rows: 12, distinct: 10, duplicates: 2 });
    expect(await store.duplicates(TABLE, ['seq'])).toMatchObject({ rows: 12, distinct: 8, duplicates: 4 });
    // A missing key field counts as null.
    expect(await store.duplicates(TABLE, ['nope'])).toMatchObject({ rows: 12, distinct: 1, duplicates: 11 });
  });

  it('refuses a table name that is not catalog.schema.table', async () => {
    await expect(async () => store.append('../etc/passwd', ['{}'])).rejects.toThrow('invalid table name ../etc/passwd');
  });

  it('may be closed twice', async () => {
    await store.append(TABLE, rowsOf(1, 1));
    await store.close();
    await store.close();
  });
});
