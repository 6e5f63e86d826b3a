import { z } from 'zod';
import { DEFAULT_DLQ_MAX_BYTES, DEFAULT_DLQ_MAX_ENTRIES, deadLetterConfigSchema } from '../../common/dlq/config.ts';

export const DEFAULT_DLQ_BACKLOG_MAX_ENTRIES = 10_000;
export const MAX_DLQ_BACKLOG_ENTRIES = 10_000_000;
export const DEFAULT_DLQ_BACKLOG_MAX_BYTES = 16 * 1024 * 1024;
export const MIN_DLQ_BACKLOG_BYTES = 64 * 1024;
export const MAX_DLQ_BACKLOG_BYTES = 4 * 1024 * 1024 * 1024;
export const DEFAULT_DLQ_MAX_PAYLOAD_CHARS = 8 * 1024;
export const MIN_DLQ_PAYLOAD_CHARS = 64;
export const MAX_DLQ_PAYLOAD_CHARS = 1024 * 1024;
export const DEFAULT_DLQ_RETRY_INITIAL_MS = 100;
export const DEFAULT_DLQ_RETRY_MAX_MS = 10_000;
const MIN_RETRY_MS = 10;
const MAX_RETRY_MS = 600_000;

/**
 * The gateway's dead-letter settings: the store's bound (shared with the relay, which reads
 * the same keys under the same prefix) and how rejected payloads wait for Redis.
 */
export const gatewayDeadLetterSchema = deadLetterConfigSchema
  .extend({
    // The shared bound, described for the gateway: what it does at the bound differs from the relay.
    max_entries: z
      .number()
      .int()
      .min(1)
      .default(DEFAULT_DLQ_MAX_ENTRIES)
      .describe(
        'Most entries in the whole store (every gateway and relay on this prefix). At the bound the store refuses a new entry (never evicts): the gateway counts it in records_dead_letter_lost_total{reason="dlq_full"} and logs at ERROR.',
      ),
    max_bytes: z.number().int().min(1024).default(DEFAULT_DLQ_MAX_BYTES).describe('Most bytes of entries (JSON) in the whole store; the same refusal applies.'),
    max_payload_chars: z
      .number()
      .int()
      .min(MIN_DLQ_PAYLOAD_CHARS)
      .max(MAX_DLQ_PAYLOAD_CHARS)
      .default(DEFAULT_DLQ_MAX_PAYLOAD_CHARS)
      .describe('A rejected payload longer than this (characters of text, or of base64 for binary) is cut before it is stored; the entry says payloadTruncated.'),
    backlog_max_entries: z
      .number()
      .int()
      .min(1)
      .max(MAX_DLQ_BACKLOG_ENTRIES)
      .default(DEFAULT_DLQ_BACKLOG_MAX_ENTRIES)
      .describe(
        'Rejected payloads held in memory while Redis is unreachable, retried with backoff. Past this (or backlog_max_bytes) a new one is not kept: counted in records_dead_letter_lost_total{reason="backlog_full"} and logged at ERROR.',
      ),
    backlog_max_bytes: z
      .number()
      .int()
      .min(MIN_DLQ_BACKLOG_BYTES)
      .max(MAX_DLQ_BACKLOG_BYTES)
      .default(DEFAULT_DLQ_BACKLOG_MAX_BYTES)
      .describe('Bytes (about one per character) of rejected payloads held in memory while Redis is unreachable; the same rule applies.'),
    retry_initial_ms: z
      .number()
      .int()
      .min(MIN_RETRY_MS)
      .max(MAX_RETRY_MS)
      .default(DEFAULT_DLQ_RETRY_INITIAL_MS)
      .describe('Wait before the first retry of a failed write to the dead-letter store; doubles per failure up to retry_max_ms (each wait drawn between half and all of it).'),
    retry_max_ms: z
      .number()
      .int()
      .min(MIN_RETRY_MS)
      .max(MAX_RETRY_MS)
      .default(DEFAULT_DLQ_RETRY_MAX_MS)
      .describe('Longest wait between retries of a failed write to the dead-letter store.'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.retry_max_ms < c.retry_initial_ms) ctx.addIssue({ code: 'custom', path: ['retry_max_ms'], message: `must be at least retry_initial_ms (${c.retry_initial_ms})` });
  })
  .describe(
    'Dead-letter store in Redis for payloads the sources could not turn into readings (the relay serves it at GET /dlq). max_entries and max_bytes bound the whole store: give the relay the same values.',
  );

export type GatewayDeadLetterConfig = z.output<typeof gatewayDeadLetterSchema>;
