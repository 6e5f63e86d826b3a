import type { Logger } from '../../common/logger.ts';
import type { OverflowPolicy, PendingBatch } from '../pipeline/memory-queue.ts';
import type { SpoolFs } from './fs.ts';

export type SpoolDropReason = 'spool_full' | 'spool_corrupt' | 'disk_full' | 'spool_error';

export interface SpoolOptions {
  dir: string;
  /** Bound on the segment files' total size. */
  maxBytes: number;
  /** A segment is closed and a new one started past this size. */
  segmentBytes: number;
  policy: OverflowPolicy;
  /** 32-byte AES-256-GCM key; absent for a plain spool. */
  key?: Buffer;
  log: Logger;
  /** Records lost inside the spool (evicted by drop_oldest, or unreadable), per table. */
  onDrop(table: string, records: number, reason: SpoolDropReason): void;
  fs?: SpoolFs;
}

export interface AppendResult {
  /** Durably written (fsynced), in order. */
  accepted: PendingBatch[];
  /** Not written, and not to be retried: the caller counts them as dropped. */
  refused: Array<{ item: PendingBatch; reason: SpoolDropReason }>;
  /** Not written under the block policy; the caller keeps them and tries again later. */
  blocked: PendingBatch[];
}

export interface SpoolStatus {
  dir: string;
  encrypted: boolean;
  policy: OverflowPolicy;
  bytes: number;
  maxBytes: number;
  segments: number;
  /** Batches and records written and not yet delivered. */
  batches: number;
  records: number;
  /** The last write failed with ENOSPC/EDQUOT, and none has succeeded since. */
  diskFull: boolean;
  /** False when a write now would be refused or blocked (full under block or drop_newest, or failing writes). */
  accepting: boolean;
  lastError?: string;
  lastErrorAt?: string;
}
