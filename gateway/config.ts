import { hostname } from 'node:os';
import { z } from 'zod';
import { httpSchema, logSchema, redisSchema } from '../common/config/shared.ts';
import { tableName } from '../common/tables.ts';
import type { Protocol } from '../common/reading.ts';
import { SOURCE_SPECS } from './sources/registry.ts';

export const DEFAULT_BATCH_MAX_RECORDS = 500;
export const DEFAULT_BATCH_MAX_BYTES = 1024 * 1024;
export const DEFAULT_BATCH_MAX_WAIT_MS = 50;
export const DEFAULT_GATEWAY_HTTP_PORT = 8081;
export const DEFAULT_STOP_TIMEOUT_MS = 10_000;
export const MAX_STOP_TIMEOUT_MS = 600_000;

export const DEFAULT_TABLES: Record<Protocol, string> = {
  mqtt: 'main.iot.mqtt_bronze',
  opcua: 'main.iot.opcua_bronze',
  modbus: 'main.iot.modbus_bronze',
};

const NAME = /^[A-Za-z0-9_.-]+$/;

const batchingSchema = z
  .object({
    max_records: z.number().int().min(1).max(100_000).default(DEFAULT_BATCH_MAX_RECORDS).describe('Records per batch before it is sent.'),
    max_bytes: z
      .number()
      .int()
      .min(1024)
      .max(8 * 1024 * 1024)
      .default(DEFAULT_BATCH_MAX_BYTES)
      .describe('Encoded bytes per batch before it is sent (Zerobus takes at most 10 MiB per call).'),
    max_wait_ms: z.number().int().min(1).max(60_000).default(DEFAULT_BATCH_MAX_WAIT_MS).describe('Longest a record waits for its batch to fill.'),
  })
  .strict()
  .describe('Micro-batching per target table.');

const routingSchema = z
  .object({
    record_type: z.enum(['proto', 'json']).default('proto').describe('How records are encoded for Zerobus: protobuf (default) or JSON.'),
    tables: z
      .object({
        mqtt: tableName.default(DEFAULT_TABLES.mqtt),
        opcua: tableName.default(DEFAULT_TABLES.opcua),
        modbus: tableName.default(DEFAULT_TABLES.modbus),
      })
      .strict()
      .prefault({})
      .describe('Default bronze table per protocol; a source may name its own.'),
  })
  .strict();

const protocolKeys = SOURCE_SPECS.map((s) => s.protocol);

const sourceSchema = z
  .object({
    name: z.string().regex(NAME, { message: 'expected letters, digits, _, . or -' }).describe('Unique source name; it leads every tag path.'),
    enabled: z.boolean().default(true).describe('A disabled source is validated but not started.'),
    table: tableName.optional().describe("Target table; defaults to routing.tables for the source's protocol."),
    ...Object.fromEntries(SOURCE_SPECS.map((spec) => [spec.protocol, spec.configSchema.optional()])),
  })
  .strict()
  .superRefine((source, ctx) => {
    const present = protocolKeys.filter((key) => (source as Record<string, unknown>)[key] !== undefined);
    if (present.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: present.length === 0 ? `expected one protocol key: ${protocolKeys.join(', ')}` : `expected one protocol key, got ${present.join(' and ')}`,
      });
    }
  });

export const gatewayConfigSchema = z
  .object({
    gateway: z
      .object({
        id: z.string().regex(NAME, { message: 'expected letters, digits, _, . or -' }).default(() => hostname().replace(/[^A-Za-z0-9_.-]/g, '-'))
          .meta({ description: 'Gateway id stamped on every row.', 'x-default': '<host name>' }),
        stop_timeout_ms: z
          .number()
          .int()
          .min(0)
          .max(MAX_STOP_TIMEOUT_MS)
          .default(DEFAULT_STOP_TIMEOUT_MS)
          .describe('At stop, longest wait for Redis to take the batches still in memory; what is left then is counted as lost.'),
      })
      .strict()
      .prefault({}),
    log: logSchema.prefault({}),
    redis: redisSchema.prefault({}),
    http: httpSchema(DEFAULT_GATEWAY_HTTP_PORT).prefault({}),
    batching: batchingSchema.prefault({}),
    routing: routingSchema.prefault({}),
    sources: z.array(sourceSchema).min(1).describe('The data sources; each names exactly one protocol.'),
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Map<string, number>();
    config.sources.forEach((source, index) => {
      const first = seen.get(source.name);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['sources', index, 'name'], message: `duplicate source name "${source.name}" (also sources[${first}])` });
      } else seen.set(source.name, index);
    });
  });

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
export type SourceConfig = GatewayConfig['sources'][number];

/** The protocol a validated source names. */
export function protocolOf(source: SourceConfig): Protocol {
  const key = protocolKeys.find((k) => (source as Record<string, unknown>)[k] !== undefined);
  if (!key) throw new Error(`source ${source.name} names no protocol`);
  return key;
}
