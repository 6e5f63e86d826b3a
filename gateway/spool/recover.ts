import { readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../common/logger.ts';
import { readCursor } from './cursor.ts';
import { readSegmentHeader, SEGMENT_HEADER_BYTES, SpoolFormatError, type SegmentHeader } from './frame.ts';
import type { SpoolFs } from './fs.ts';
import { SpoolKeyError } from './key.ts';
import { scanFrames } from './scan.ts';

const SEGMENT_ID_DIGITS = 20;
const SEGMENT_FILE = /^(\d{20})\.seg$/;

/** One segment file as the spool tracks it. */
export interface Segment {
  id: number;
  path: string;
  header: SegmentHeader;
  /** Bytes of header plus whole, synced frames. */
  size: number;
  frames: number;
  records: number;
}

export interface Recovered {
  segments: Segment[];
  /** Where delivery resumes in segments[0]. */
  reader: { offset: number; frame: number; ackedRecords: number };
  nextId: number;
}

export function segmentPath(dir: string, id: number): string {
  return join(dir, `${String(id).padStart(SEGMENT_ID_DIGITS, '0')}.seg`);
}

/**
 * Reads what earlier runs left in the spool directory: drops segments already delivered,
 * cuts torn tails (a write that a crash interrupted, never reported as spooled), moves an
 * unreadable segment aside as *.corrupt, and finds where delivery resumes. A segment
 * encrypted with another key, or with no key configured, stops the start: dropping it would
 * lose data that the right key can still read.
 */
export async function recoverSpool(dir: string, key: Buffer | undefined, fs: SpoolFs, log: Logger): Promise<Recovered> {
  const ids = (await readdir(dir))
    .map((name) => SEGMENT_FILE.exec(name)?.[1])
    .filter((id): id is string => id !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  const cursor = await readCursor(dir);
  const segments: Segment[] = [];
  let reader = { offset: SEGMENT_HEADER_BYTES, frame: 0, ackedRecords: 0 };
  for (const id of ids) {
    const path = segmentPath(dir, id);
    if (cursor && id < cursor.segment) {
      await unlink(path);
      continue;
    }
    const bytes = await readFile(path);
    let header: SegmentHeader;
    try {
      header = readSegmentHeader(bytes, key);
    } catch (err) {
      if (!(err instanceof SpoolFormatError)) throw err;
      if (err.kind === 'no_key' || err.kind === 'wrong_key') {
        throw new SpoolKeyError(`spool segment ${path}: ${err.message}; configure the key it was written with (spool.encryption) or move the file away`);
      }
      if (err.kind === 'torn') {
        // Created but never written: the process stopped between creating and filling it.
        await unlink(path);
        continue;
      }
      log.error({ segment: path, bytes: bytes.length, error: err.message }, 'Spool segment is unreadable; moved it aside as .corrupt. Data was lost.');
      await rename(path, `${path}.corrupt`);
      continue;
    }
    const atCursor = cursor?.segment === id && segments.length === 0;
    const scan = scanFrames(bytes, atCursor ? cursor.offset : undefined);
    if (scan.cutBytes > 0) {
      const file = await fs.open(path, 'append');
      try {
        await file.truncate(scan.size);
        await file.datasync();
      } finally {
        await file.close();
      }
      log.warn({ segment: path, cutBytes: scan.cutBytes }, 'Cut a partial write from the end of a spool segment; it was never reported as spooled.');
    }
    if (scan.badFrames > 0) {
      log.error({ segment: path, badFrames: scan.badFrames }, 'Spool segment holds frames that fail their checksum; they will be dropped and counted when delivery reaches them.');
    }
    if (atCursor) {
      if (scan.before) reader = { offset: cursor.offset, frame: scan.before.frames, ackedRecords: scan.before.records };
      else log.warn({ segment: path, offset: cursor.offset }, 'Spool cursor is not at a frame start; delivering the segment from its start (job ids keep repeats out).');
    }
    segments.push({ id, path, header, size: scan.size, frames: scan.frames, records: scan.records });
  }
  const last = ids.at(-1) ?? 0;
  return { segments, reader, nextId: Math.max(last + 1, cursor?.segment ?? 1) };
}
