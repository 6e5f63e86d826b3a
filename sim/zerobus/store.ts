import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { TABLE_NAME_PATTERN } from '../../common/tables.ts';

const NEWLINE = 0x0a;
const JSONL = '.jsonl';

interface PendingWrite {
  text: string;
  rows: number;
  done: (err?: Error) => void;
}

/**
 * The landed rows of one table: a JSON-lines file, appended in order. Writes that arrive
 * while one is under way are coalesced into the next, so a fast stream costs one syscall
 * per group of requests rather than per record. Appends complete in the order they were made.
 */
class TableFile {
  readonly path: string;
  readonly #fsync: boolean;
  #rows: number;
  #handle: FileHandle | undefined;
  #queue: PendingWrite[] = [];
  #writing = false;
  #drained: Promise<void> = Promise.resolve();

  constructor(path: string, fsync: boolean, rows: number) {
    this.path = path;
    this.#fsync = fsync;
    this.#rows = rows;
  }

  /** Rows written so far (acked or about to be). */
  get rows(): number {
    return this.#rows;
  }

  append(lines: string[]): Promise<void> {
    if (lines.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#queue.push({ text: `${lines.join('\n')}\n`, rows: lines.length, done: (err) => (err ? reject(err) : resolve()) });
      if (!this.#writing) {
        this.#writing = true;
        this.#drained = this.#drain();
      }
    });
  }

  async #drain(): Promise<void> {
    try {
      this.#handle ??= await open(this.path, 'a');
      while (this.#queue.length > 0) {
        const group = this.#queue;
        this.#queue = [];
        try {
          await this.#handle.write(group.map((w) => w.text).join(''));
          if (this.#fsync) await this.#handle.sync();
          this.#rows += group.reduce((n, w) => n + w.rows, 0);
          for (const w of group) w.done();
        } catch (err) {
          for (const w of group) w.done(err as Error);
        }
      }
    } catch (err) {
      for (const w of this.#queue.splice(0)) w.done(err as Error);
    } finally {
      // Synchronously with the empty-queue check, so the next append starts a new drain.
      this.#writing = false;
    }
  }

  async close(): Promise<void> {
    while (this.#writing) await this.#drained;
    await this.#handle?.close();
    this.#handle = undefined;
  }
}

/**
 * Counts the complete lines of a file. A last line without its newline is a write cut short
 * (the process died mid-write, before the ack): it is cut off so the next append starts clean.
 */
async function countAndRepair(path: string): Promise<{ rows: number; truncatedBytes: number }> {
  let rows = 0;
  let size = 0;
  let endOfLastLine = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(NEWLINE); i !== -1; i = chunk.indexOf(NEWLINE, i + 1)) {
      rows++;
      endOfLastLine = size + i + 1;
    }
    size += chunk.length;
  }
  if (size > endOfLastLine) await truncate(path, endOfLastLine);
  return { rows, truncatedBytes: size - endOfLastLine };
}

export interface DuplicateReport {
  table: string;
  key: string[];
  rows: number;
  distinct: number;
  duplicates: number;
}

/** Every table's landed rows under one folder, with a row counter per table kept in memory. */
export class RowStore {
  readonly #dir: string;
  readonly #fsync: boolean;
  readonly #files = new Map<string, TableFile>();

  constructor(dir: string, fsync: boolean) {
    this.#dir = dir;
    this.#fsync = fsync;
  }

  /** Creates the folder and counts the rows already there; returns the tables whose cut-short last line was removed. */
  async init(): Promise<Array<{ table: string; truncatedBytes: number }>> {
    await mkdir(this.#dir, { recursive: true });
    const repaired: Array<{ table: string; truncatedBytes: number }> = [];
    const tables = (await readdir(this.#dir)).filter((f) => f.endsWith(JSONL)).map((f) => f.slice(0, -JSONL.length));
    for (const table of tables.filter((t) => TABLE_NAME_PATTERN.test(t))) {
      const path = this.#pathOf(table);
      const { rows, truncatedBytes } = await countAndRepair(path);
      if (truncatedBytes > 0) repaired.push({ table, truncatedBytes });
      this.#files.set(table, new TableFile(path, this.#fsync, rows));
    }
    return repaired;
  }

  #pathOf(table: string): string {
    if (!TABLE_NAME_PATTERN.test(table)) throw new Error(`invalid table name ${table}`);
    return join(this.#dir, `${table}${JSONL}`);
  }

  append(table: string, jsonLines: string[]): Promise<void> {
    let file = this.#files.get(table);
    if (!file) {
      file = new TableFile(this.#pathOf(table), this.#fsync, 0);
      this.#files.set(table, file);
    }
    return file.append(jsonLines);
  }

  /** Rows landed in a table; 0 for a table never written. */
  count(table: string): number {
    return this.#files.get(table)?.rows ?? 0;
  }

  tables(): Array<{ table: string; rows: number }> {
    return [...this.#files.entries()].map(([table, file]) => ({ table, rows: file.rows })).sort((a, b) => a.table.localeCompare(b.table));
  }

  /** Rows offset..offset+limit, parsed. */
  async rows(table: string, offset: number, limit: number): Promise<unknown[]> {
    const out: unknown[] = [];
    let index = 0;
    for await (const line of this.#lines(table)) {
      if (index++ < offset) continue;
      out.push(JSON.parse(line));
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Counts rows whose key fields repeat an earlier row's. */
  async duplicates(table: string, key: string[]): Promise<DuplicateReport> {
    const seen = new Set<string>();
    let rows = 0;
    for await (const line of this.#lines(table)) {
      const row = JSON.parse(line) as Record<string, unknown>;
      seen.add(JSON.stringify(key.map((k) => row[k] ?? null)));
      rows++;
    }
    return { table, key, rows, distinct: seen.size, duplicates: rows - seen.size };
  }

  async *#lines(table: string): AsyncGenerator<string> {
    const file = this.#files.get(table);
    // Only the rows complete when the read starts: an append may be writing the next ones.
    const complete = file?.rows ?? 0;
    if (!file || complete === 0) return;
    const input = createReadStream(file.path);
    let read = 0;
    try {
      for await (const line of createInterface({ input, crlfDelay: Infinity })) {
        if (read++ >= complete) break;
        yield line;
      }
    } finally {
      input.destroy();
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.#files.values()].map((f) => f.close()));
  }
}
