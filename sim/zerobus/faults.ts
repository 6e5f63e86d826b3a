import { status } from '@grpc/grpc-js';
import { z } from 'zod';
import { tableName } from '../../common/tables.ts';

export const DEFAULT_CLOSE_STREAM_DURATION_MS = 1_000;

/** gRPC status names a fault may fail calls with (OK excluded). */
const CODES = Object.keys(status).filter((k) => Number.isNaN(Number(k)) && k !== 'OK') as [keyof typeof status, ...Array<keyof typeof status>];

/**
 * The faults the emulator can inject, as config (faults: in the YAML) or at run time through
 * PUT/PATCH /api/faults. Every field is off by default.
 */
export const faultsSchema = z
  .object({
    fail_calls: z
      .object({
        count: z.number().int().min(0).describe('How many of the next EphemeralStream calls fail.'),
        code: z.enum(CODES).default('UNAVAILABLE').describe('gRPC status they fail with.'),
        message: z.string().default('injected failure').describe('Status details the client sees.'),
      })
      .strict()
      .optional()
      .describe('Fail the next N calls with code X, before create_stream_response.'),
    ack_delay_ms: z.number().int().min(0).default(0).describe('Delay every durability ack by this long.'),
    close_stream_after_messages: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('Send close_stream_signal on every stream after this many ingest messages (0: never).'),
    close_stream_duration_ms: z
      .number()
      .int()
      .min(0)
      .default(DEFAULT_CLOSE_STREAM_DURATION_MS)
      .describe('Duration in the close_stream_signal; the server ends the stream after it.'),
    drop_connection_after_messages: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('Once: after this many ingest messages on a stream are written, drop every connection before acking (0: never).'),
    reject_schema_tables: z.array(tableName).default([]).describe('Tables whose create_stream is refused as a schema mismatch (INVALID_ARGUMENT).'),
    reject_values: z
      .array(
        z
          .object({
            table: tableName.describe('Table the constraint applies to.'),
            column: z.string().min(1).describe('Column (proto field name) to check.'),
            value: z.union([z.string(), z.number(), z.boolean()]).describe('A record whose column holds this value is refused.'),
          })
          .strict(),
      )
      .default([])
      .describe(
        'Table constraints: a request holding a record whose column equals the value is refused as INVALID_ARGUMENT naming the offset and record index, and none of it lands.',
      ),
    token_endpoint: z
      .object({
        status: z.union([z.literal(401), z.literal(403), z.literal(500), z.literal(503)]).describe('HTTP status the token endpoint answers.'),
        count: z.number().int().min(1).default(1).describe('How many token requests get it.'),
      })
      .strict()
      .optional()
      .describe('Make the token endpoint fail the next N requests.'),
    records_per_s_per_stream: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('Quota per stream; a stream that goes over fails with RESOURCE_EXHAUSTED (0: no quota).'),
  })
  .strict();

export type FaultSettings = z.output<typeof faultsSchema>;

/** The live fault state: settings plus the counters one-shot faults use up. */
export class Faults {
  #settings: FaultSettings;

  constructor(settings: FaultSettings) {
    this.#settings = structuredClone(settings);
  }

  get settings(): FaultSettings {
    return structuredClone(this.#settings);
  }

  replace(settings: FaultSettings): void {
    this.#settings = structuredClone(settings);
  }

  /** The failure a new call should get, if any; uses one of the count. */
  takeCallFailure(): { code: status; message: string } | undefined {
    const f = this.#settings.fail_calls;
    if (!f || f.count <= 0) return undefined;
    f.count--;
    return { code: status[f.code], message: f.message };
  }

  /** The HTTP status the token endpoint should answer instead of a token, if any. */
  takeTokenFailure(): number | undefined {
    const f = this.#settings.token_endpoint;
    if (!f || f.count <= 0) return undefined;
    f.count--;
    if (f.count === 0) delete this.#settings.token_endpoint;
    return f.status;
  }

  rejectsSchema(table: string): boolean {
    return this.#settings.reject_schema_tables.includes(table);
  }

  /** The first record (index and constraint) that a table's reject_values refuse, if any. Rows are JSON lines. */
  violation(table: string, rows: string[]): { index: number; column: string; value: string | number | boolean } | undefined {
    const rules = this.#settings.reject_values.filter((r) => r.table === table);
    if (rules.length === 0) return undefined;
    for (let index = 0; index < rows.length; index++) {
      const row = JSON.parse(rows[index] ?? '{}') as Record<string, unknown>;
      const rule = rules.find((r) => row[r.column] === r.value);
      if (rule) return { index, column: rule.column, value: rule.value };
    }
    return undefined;
  }

  /** True once, when a stream has written its Nth message: time to drop every connection. */
  takeDrop(messagesOnStream: number): boolean {
    const after = this.#settings.drop_connection_after_messages;
    if (after <= 0 || messagesOnStream !== after) return false;
    this.#settings.drop_connection_after_messages = 0;
    return true;
  }

  get ackDelayMs(): number {
    return this.#settings.ack_delay_ms;
  }

  closeStreamAfter(): { messages: number; durationMs: number } | undefined {
    const n = this.#settings.close_stream_after_messages;
    return n > 0 ? { messages: n, durationMs: this.#settings.close_stream_duration_ms } : undefined;
  }

  get quotaPerStream(): number {
    return this.#settings.records_per_s_per_stream;
  }
}

/** A records/s quota for one stream: a one-second token bucket. Pure apart from the clock passed in. */
export class StreamQuota {
  #tokens: number;
  #last: number;

  constructor(
    private readonly ratePerS: number,
    nowMs: number,
  ) {
    this.#tokens = ratePerS;
    this.#last = nowMs;
  }

  /** Takes n records; false when the stream is over its quota. */
  take(n: number, nowMs: number): boolean {
    if (this.ratePerS <= 0) return true;
    this.#tokens = Math.min(this.ratePerS, this.#tokens + ((nowMs - this.#last) / 1000) * this.ratePerS);
    this.#last = nowMs;
    if (n > this.#tokens) return false;
    this.#tokens -= n;
    return true;
  }
}
