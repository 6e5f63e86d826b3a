import { z } from 'zod';
import { tableName } from '../tables.ts';

/**
 * A dead letter: data that could not be delivered, kept with why. Two kinds share one store:
 * - 'batch': encoded records the relay could not land (a BatchJob's records, or some of
 *   them), with the error and its history. They can be replayed onto the table's queue.
 * - 'payload': a raw payload a gateway source could not turn into readings. There is nothing
 *   to replay (no record was ever made); it is kept for an operator to read, then deleted.
 */
export const DEAD_LETTER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const deadLetterId = z.string().regex(DEAD_LETTER_ID_PATTERN, { message: 'expected 1-64 letters, digits, _ or -' });

/** Why a batch's records were dead-lettered. */
export const BATCH_DISPOSITIONS = [
  /** Zerobus refused them for good (undecodable record, schema rejected, permission denied). */
  'rejected',
  /**
   * Every try failed with a temporary error (UNAVAILABLE, ACK_TIMEOUT, ...) and the tries are
   * used up. The records are not known to be bad: replaying them once the cause is gone lands them.
   */
  'retries_exhausted',
  /** Zerobus refused a request holding them, and the search for the bad records in it hit its send budget. */
  'isolation_budget_exhausted',
] as const;
export type BatchDisposition = (typeof BATCH_DISPOSITIONS)[number];

const timeMs = z.number().int().min(0);

export const batchDeadLetterSchema = z
  .object({
    kind: z.literal('batch'),
    id: deadLetterId.describe('Entry id, unique in the store.'),
    table: tableName,
    createdAtMs: timeMs.describe('When the entry was stored.'),
    messageType: z.string().min(1).describe('Protobuf message of the records, e.g. iot.bronze.MqttReading.'),
    recordType: z.enum(['proto', 'json']).describe('Record encoding, as in the batch job.'),
    records: z.array(z.string()).min(1).describe('The records exactly as they were queued: base64 protobuf or JSON text.'),
    recordIndexes: z.array(z.number().int().min(0)).describe("Each record's position in the job it came from."),
    jobId: z.string().min(1).describe('The BullMQ job the records came from.'),
    gatewayId: z.string().optional().describe('The gateway that enqueued the job.'),
    disposition: z.enum(BATCH_DISPOSITIONS).describe('Why they were dead-lettered.'),
    error: z
      .object({
        code: z.string().min(1).describe('Error code: a gRPC status name or one of the client’s own (ACK_TIMEOUT, BATCH_TOO_LARGE, ...).'),
        message: z.string().describe('The error message, as the service gave it.'),
        retryable: z.boolean().describe('True for a temporary error whose tries ran out; false for a permanent refusal.'),
      })
      .strict(),
    attempts: z.number().int().min(1).describe('Tries made before the records were dead-lettered.'),
    firstFailureMs: timeMs.describe('When the first try failed.'),
    lastFailureMs: timeMs.describe('When the last try failed.'),
  })
  .strict();

export const payloadDeadLetterSchema = z
  .object({
    kind: z.literal('payload'),
    id: deadLetterId.describe('Entry id, unique in the store.'),
    table: tableName.describe("The table the source's readings go to."),
    createdAtMs: timeMs.describe('When the entry was stored.'),
    source: z.string().min(1).describe('The source that received the payload.'),
    origin: z.string().describe('Where it came from: an MQTT topic, a node id, a register address.'),
    reasonKind: z.string().min(1).describe('A short label for the failure (invalid_json, value_not_found, ...).'),
    reason: z.string().describe('Why the payload could not become readings.'),
    payload: z.string().describe('The payload as received, as text (base64 for binary).'),
    payloadTruncated: z.boolean().describe('True when the payload was cut to fit the store.'),
    receivedAtMs: timeMs.describe('When the source received it.'),
  })
  .strict();

export const deadLetterSchema = z.discriminatedUnion('kind', [batchDeadLetterSchema, payloadDeadLetterSchema]);

export type BatchDeadLetter = z.output<typeof batchDeadLetterSchema>;
export type PayloadDeadLetter = z.output<typeof payloadDeadLetterSchema>;
export type DeadLetter = BatchDeadLetter | PayloadDeadLetter;

/** What a caller hands to add(): the store sets createdAtMs, and the id unless given. */
export type NewDeadLetter =
  | (Omit<BatchDeadLetter, 'id' | 'createdAtMs'> & { id?: string })
  | (Omit<PayloadDeadLetter, 'id' | 'createdAtMs'> & { id?: string });

/** An entry without its records or payload, as lists show it. */
export type DeadLetterSummary =
  | (Omit<BatchDeadLetter, 'records' | 'recordIndexes'> & { recordCount: number })
  | (Omit<PayloadDeadLetter, 'payload'> & { payloadChars: number });

export function summarize(entry: DeadLetter): DeadLetterSummary {
  if (entry.kind === 'batch') {
    const { records, recordIndexes: _indexes, ...rest } = entry;
    return { ...rest, recordCount: records.length };
  }
  const { payload, ...rest } = entry;
  return { ...rest, payloadChars: payload.length };
}
