import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const CURSOR_FILE = 'cursor.json';

/** Where the next batch to deliver starts: everything before it reached Redis. */
export interface Cursor {
  segment: number;
  offset: number;
  frame: number;
}

export async function readCursor(dir: string): Promise<Cursor | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, CURSOR_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const c = JSON.parse(text) as Partial<Cursor>;
    if ([c.segment, c.offset, c.frame].every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) return c as Cursor;
  } catch {
    // A cursor that does not parse is ignored: delivery restarts at the oldest segment, and
    // job ids make the repeats no-ops.
  }
  return undefined;
}

/**
 * Writes the cursor atomically (temporary file, then rename). It is not fsynced: after a power
 * loss an older cursor re-sends a few batches, which keep their job ids and are not doubled.
 */
export class CursorWriter {
  readonly #dir: string;
  #latest: Cursor | undefined;
  #writing: Promise<void> | undefined;
  #onError: (err: Error) => void;

  constructor(dir: string, onError: (err: Error) => void) {
    this.#dir = dir;
    this.#onError = onError;
  }

  /** Saves the cursor soon; only the newest one matters, so writes are coalesced. */
  save(cursor: Cursor): void {
    this.#latest = cursor;
    this.#writing ??= this.#loop();
  }

  /** Waits for the newest cursor to be written. */
  async flush(): Promise<void> {
    while (this.#writing) await this.#writing;
  }

  async #loop(): Promise<void> {
    try {
      while (this.#latest) {
        const cursor = this.#latest;
        this.#latest = undefined;
        const tmp = join(this.#dir, `${CURSOR_FILE}.tmp`);
        try {
          await writeFile(tmp, JSON.stringify(cursor));
          await rename(tmp, join(this.#dir, CURSOR_FILE));
        } catch (err) {
          this.#onError(err as Error);
        }
      }
    } finally {
      this.#writing = undefined;
    }
  }
}
