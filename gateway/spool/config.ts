import { z } from 'zod';
import { secretString } from '../../common/config/shared.ts';
import { OVERFLOW_POLICIES } from '../pipeline/memory-queue.ts';
import { decodeSpoolKey } from './key.ts';

export const DEFAULT_SPOOL_MAX_BYTES = 1024 * 1024 * 1024;
export const MIN_SPOOL_MAX_BYTES = 8 * 1024;
export const MAX_SPOOL_MAX_BYTES = 1024 * 1024 * 1024 * 1024;
export const DEFAULT_SEGMENT_BYTES = 16 * 1024 * 1024;
export const MIN_SEGMENT_BYTES = 4 * 1024;
export const MAX_SEGMENT_BYTES = 256 * 1024 * 1024;
/** The bound holds at least this many segments, so drop_oldest deletes a small share at a time. */
export const MIN_SEGMENTS_IN_BOUND = 2;

const policyDoc =
  'At max_bytes: drop_oldest deletes the oldest segment (the newest data is kept), drop_newest refuses new batches, block keeps them in the memory queue (whose own policy then acts); every dropped record is counted in records_dropped_total.';

export const spoolEncryptionSchema = z
  .object({
    key: secretString()
      .optional()
      .describe('AES-256 key, 32 bytes as 64 hex digits or base64; pass it as ${ENV_VAR}, e.g. key: ${SPOOL_KEY}. Generate with: openssl rand -base64 32.'),
    key_file: z.string().min(1).optional().describe('File holding the key (hex or base64), e.g. a Docker or Kubernetes secret; read at start.'),
  })
  .strict()
  .superRefine((e, ctx) => {
    if ((e.key === undefined) === (e.key_file === undefined)) {
      ctx.addIssue({ code: 'custom', path: [], message: 'expected exactly one of key or key_file' });
      return;
    }
    if (e.key !== undefined) {
      const decoded = decodeSpoolKey(e.key.reveal());
      if (typeof decoded === 'string') ctx.addIssue({ code: 'custom', path: ['key'], message: decoded });
    }
  })
  .describe('Encrypts the spool with AES-256-GCM; spooled values are then unreadable on disk without the key.');

export const spoolSchema = z
  .object({
    dir: z
      .string()
      .min(1)
      .optional()
      .describe('Directory of the disk spool (one gateway per directory). Unset: no spool, and a Redis outage is held only in memory, up to queue.max_bytes.'),
    max_bytes: z
      .number()
      .int()
      .min(MIN_SPOOL_MAX_BYTES)
      .max(MAX_SPOOL_MAX_BYTES)
      .default(DEFAULT_SPOOL_MAX_BYTES)
      .describe('Bound on the spool files on disk, in bytes.'),
    segment_bytes: z
      .number()
      .int()
      .min(MIN_SEGMENT_BYTES)
      .max(MAX_SEGMENT_BYTES)
      .default(DEFAULT_SEGMENT_BYTES)
      .describe('Size at which a segment file is closed and the next begun; the unit drop_oldest deletes.'),
    policy: z.enum(OVERFLOW_POLICIES).default('drop_oldest').describe(policyDoc),
    encryption: spoolEncryptionSchema.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.max_bytes < MIN_SEGMENTS_IN_BOUND * s.segment_bytes) {
      ctx.addIssue({ code: 'custom', path: ['max_bytes'], message: `expected at least ${MIN_SEGMENTS_IN_BOUND} x segment_bytes (${MIN_SEGMENTS_IN_BOUND * s.segment_bytes}), got ${s.max_bytes}` });
    }
  })
  .describe('Store-and-forward: where batches go while Redis is unreachable or refusing writes; delivered in order once it is back.');

export type SpoolConfig = z.output<typeof spoolSchema>;
