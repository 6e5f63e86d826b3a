import type { SpoolFs } from './fs.ts';
import type { Segment } from './recover.ts';
import { readFrameAt } from './segment-io.ts';

/** The table label for records whose batch could not be read (corrupt or tampered). */
export const UNKNOWN_TABLE = '(unreadable)';

/**
 * Records per table in a segment from `offset` (frame number `frame`, with `recordsBefore`
 * records before it) to its end: what is lost when the segment is deleted undelivered. A frame
 * that cannot be read counts under UNKNOWN_TABLE with the record count its header gives.
 */
export async function tallyTables(fs: SpoolFs, segment: Segment, offset: number, frame: number, recordsBefore: number): Promise<Map<string, number>> {
  const tally = new Map<string, number>();
  const add = (table: string, n: number) => tally.set(table, (tally.get(table) ?? 0) + n);
  const file = await fs.open(segment.path, 'read');
  try {
    let at = offset;
    for (let index = frame; at < segment.size; index++) {
      const read = await readFrameAt(file, segment, at, index);
      if (read.kind === 'lost') {
        // The rest cannot be walked: what the books hold for it is unreadable.
        add(UNKNOWN_TABLE, segment.records - [...tally.values()].reduce((n, v) => n + v, 0) - recordsBefore);
        break;
      }
      add(read.kind === 'batch' ? read.item.batch.table : UNKNOWN_TABLE, read.records);
      at = read.nextOffset;
    }
  } finally {
    await file.close();
  }
  return tally;
}
