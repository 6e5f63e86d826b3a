import { z } from 'zod';

export const DEFAULT_DLQ_MAX_ENTRIES = 100_000;
export const DEFAULT_DLQ_MAX_BYTES = 256 * 1024 * 1024;

/** The dead-letter store's size bound; gateway and relay configs both use it. */
export const deadLetterConfigSchema = z
  .object({
    max_entries: z
      .number()
      .int()
      .min(1)
      .default(DEFAULT_DLQ_MAX_ENTRIES)
      .describe('Most entries kept in Redis. At the bound a new entry is refused and counted (never evicted): the relay keeps the batch in the queue’s failed set.'),
    max_bytes: z
      .number()
      .int()
      .min(1024)
      .default(DEFAULT_DLQ_MAX_BYTES)
      .describe('Most bytes of entries (JSON) kept in Redis; the same refusal applies.'),
  })
  .strict()
  .describe('Dead-letter store in Redis (shared by every relay and gateway on the same prefix).');

export type DeadLetterConfig = z.output<typeof deadLetterConfigSchema>;
