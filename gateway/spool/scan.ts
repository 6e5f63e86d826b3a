import { FRAME_HEADER_BYTES, frameCrcOk, readFrameHead, SEGMENT_HEADER_BYTES, SpoolFormatError, type FrameHead } from './frame.ts';

export interface ScanResult {
  /** Bytes of header plus whole frames; anything after it is to be cut. */
  size: number;
  frames: number;
  records: number;
  /** Bytes after `size` that did not form a whole, valid frame (a torn or corrupt tail). */
  cutBytes: number;
  /** Frames inside the segment that fail their CRC but whose neighbours are sound. */
  badFrames: number;
  /** Frames and records before `stopAt` (the delivery cursor), when it falls on a frame start. */
  before?: { frames: number; records: number };
}

/**
 * Walks the frames of a segment's bytes (header already checked) and finds where the sound
 * part ends. A frame that runs past the end, has an implausible length, or is the last one and
 * fails its CRC is a torn write: it and everything after it are cut. A frame inside the
 * segment that fails its CRC while the next frame is sound is kept, counted in badFrames, and
 * dropped (and counted) when delivery reaches it. Pure.
 */
export function scanFrames(bytes: Buffer, stopAt?: number): ScanResult {
  let at = SEGMENT_HEADER_BYTES;
  let frames = 0;
  let records = 0;
  let badFrames = 0;
  let before: ScanResult['before'];
  while (at < bytes.length) {
    if (at === stopAt) before = { frames, records };
    const head = headAt(bytes, at);
    if (!head) break;
    const end = at + FRAME_HEADER_BYTES + head.payloadBytes;
    if (end > bytes.length) break;
    if (!frameCrcOk(head, bytes.subarray(at + FRAME_HEADER_BYTES, end))) {
      // Bit rot inside the segment leaves the chain intact; a torn tail does not.
      const next = end < bytes.length ? headAt(bytes, end) : undefined;
      if (!next || end + FRAME_HEADER_BYTES + next.payloadBytes > bytes.length) break;
      badFrames += 1;
    }
    frames += 1;
    records += head.recordCount;
    at = end;
  }
  if (at === stopAt) before = { frames, records };
  return { size: at, frames, records, cutBytes: bytes.length - at, badFrames, ...(before ? { before } : {}) };
}

function headAt(bytes: Buffer, at: number): FrameHead | undefined {
  try {
    return readFrameHead(bytes.subarray(at, at + FRAME_HEADER_BYTES));
  } catch (err) {
    if (err instanceof SpoolFormatError) return undefined;
    throw err;
  }
}
