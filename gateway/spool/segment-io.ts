import { open as openDir, unlink } from 'node:fs/promises';
import type { PendingBatch } from '../pipeline/memory-queue.ts';
import { decodeBatch, SpoolDecodeError } from './codec.ts';
import { FRAME_HEADER_BYTES, newSegmentHeader, openFrame, readFrameHead, SEGMENT_HEADER_BYTES, SpoolFormatError } from './frame.ts';
import type { SpoolFile, SpoolFs } from './fs.ts';
import type { Segment } from './recover.ts';

/** One frame read back: its batch, or why it could not be, and where the next frame starts. */
export type FrameRead =
  | { kind: 'batch'; item: PendingBatch; records: number; nextOffset: number }
  /** The frame's bytes fail their CRC, authentication or decoding: skip it, counting its records. */
  | { kind: 'bad'; error: string; records: number; nextOffset: number }
  /** The frame header itself is damaged: nothing after it in the segment can be found. */
  | { kind: 'lost'; error: string };

/** Reads and opens the frame at offset (frame number index) of a segment. */
export async function readFrameAt(file: SpoolFile, segment: Segment, offset: number, index: number): Promise<FrameRead> {
  const headBytes = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  await file.read(headBytes, offset);
  let head;
  try {
    head = readFrameHead(headBytes);
  } catch (err) {
    if (err instanceof SpoolFormatError) return { kind: 'lost', error: err.message };
    throw err;
  }
  const payload = Buffer.allocUnsafe(head.payloadBytes);
  await file.read(payload, offset + FRAME_HEADER_BYTES);
  const nextOffset = offset + FRAME_HEADER_BYTES + head.payloadBytes;
  try {
    return { kind: 'batch', item: decodeBatch(openFrame(segment.header, index, head, payload)), records: head.recordCount, nextOffset };
  } catch (err) {
    if (!(err instanceof SpoolFormatError) && !(err instanceof SpoolDecodeError)) throw err;
    return { kind: 'bad', error: err.message, records: head.recordCount, nextOffset };
  }
}

/**
 * Creates segment `id` with a fresh header (a new salt, so a new key when encrypting), fsyncs
 * it and its directory entry, and returns it open for appending. Nothing is left on failure.
 */
export async function createSegment(fs: SpoolFs, path: string, id: number, key: Buffer | undefined): Promise<{ segment: Segment; file: SpoolFile }> {
  const { bytes, header } = newSegmentHeader(key);
  const file = await fs.open(path, 'create');
  try {
    await file.write(bytes, 0);
    await file.datasync();
    await syncDir(path.slice(0, path.lastIndexOf('/')) || '.');
  } catch (err) {
    await file.close().catch(() => {});
    await unlink(path).catch(() => {});
    throw err;
  }
  return { segment: { id, path, header, size: SEGMENT_HEADER_BYTES, frames: 0, records: 0 }, file };
}

async function syncDir(dir: string): Promise<void> {
  const handle = await openDir(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the segment data itself is synced.
  } finally {
    await handle.close();
  }
}
