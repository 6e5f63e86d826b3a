import { hostname } from 'node:os';
import { z } from 'zod';
import { opcuaServerConfigSchema } from '../opcua-server/config.ts';
import { httpSchema, logSchema, redisSchema, secretString } from '../common/config/shared.ts';
import { tableName } from '../common/tables.ts';
import type { Protocol } from '../common/reading.ts';
import { gatewayDeadLetterSchema } from './pipeline/dead-letter-config.ts';
import { DEFAULT_QUEUE_MAX_BATCHES, DEFAULT_QUEUE_MAX_BYTES } from './pipeline/enqueue.ts';
import { OVERFLOW_POLICIES } from './pipeline/memory-queue.ts';
import { reportSchema } from './pipeline/report/config.ts';
import { spoolSchema } from './spool/config.ts';
import { SOURCE_SPECS } from './sources/registry.ts';

export const DEFAULT_BATCH_MAX_RECORDS = 500;
export const DEFAULT_BATCH_MAX_BYTES = 1024 * 1024;
export const DEFAULT_BATCH_MAX_WAIT_MS = 50;
export const DEFAULT_GATEWAY_HTTP_PORT = 8081;
export const DEFAULT_STOP_TIMEOUT_MS = 10_000;
export const MAX_STOP_TIMEOUT_MS = 600_000;
export const DEFAULT_RELOAD_DEBOUNCE_MS = 500;
const MIN_QUEUE_BYTES = 1024;
const MAX_QUEUE_BYTES = 16 * 1024 * 1024 * 1024;
const MAX_QUEUE_BATCHES = 10_000_000;
const MIN_DEBOUNCE_MS = 10;
const MAX_DEBOUNCE_MS = 60_000;

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

const queueSchema = z
  .object({
    max_batches: z.number().int().min(1).max(MAX_QUEUE_BATCHES).default(DEFAULT_QUEUE_MAX_BATCHES).describe('Batches the memory queue holds at most.'),
    max_bytes: z
      .number()
      .int()
      .min(MIN_QUEUE_BYTES)
      .max(MAX_QUEUE_BYTES)
      .default(DEFAULT_QUEUE_MAX_BYTES)
      .describe('Wire bytes the memory queue holds at most. With a spool it spills there past half of this.'),
    policy: z
      .enum(OVERFLOW_POLICIES)
      .default('drop_oldest')
      .describe(
        'At the bound: drop_oldest evicts the oldest batches, drop_newest refuses new ones, block asks the sources to pause at 80% and drops (reason blocked) only what a source that cannot pause still sends at 100%.',
      ),
  })
  .strict()
  .describe('The memory queue in front of Redis and the spool.');

const reloadSchema = z
  .object({
    watch: z.boolean().default(true).describe('Reload when the config file changes (as well as on SIGHUP and POST /config/reload).'),
    debounce_ms: z
      .number()
      .int()
      .min(MIN_DEBOUNCE_MS)
      .max(MAX_DEBOUNCE_MS)
      .default(DEFAULT_RELOAD_DEBOUNCE_MS)
      .describe('Quiet time after the last change to the file before it is reloaded, so an editor save is read once.'),
  })
  .strict()
  .describe('Hot reload of the configuration; see docs/gateway.md for what applies live.');

const API_TOKEN = /^[A-Za-z0-9._~+/-]+=*$/;
const MIN_API_TOKEN_CHARS = 16;

const gatewayHttpSchema = httpSchema(DEFAULT_GATEWAY_HTTP_PORT).extend({
  api_token: secretString()
    .refine((t) => t.reveal().length >= MIN_API_TOKEN_CHARS && API_TOKEN.test(t.reveal()), {
      message: `expected at least ${MIN_API_TOKEN_CHARS} characters of A-Z a-z 0-9 . _ ~ + / - (e.g. openssl rand -hex 24)`,
    })
    .optional()
    .describe('Bearer token for mutating endpoints (POST /config/reload); pass it as ${ENV_VAR}. Unset: those endpoints answer 403.'),
});

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
    report: reportSchema.optional(),
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
          .describe('At stop, longest wait for Redis to take the batches still in memory; what is left then goes to the spool, or without one is counted as lost.'),
      })
      .strict()
      .prefault({}),
    log: logSchema.prefault({}),
    redis: redisSchema.prefault({}),
    http: gatewayHttpSchema.prefault({}),
    batching: batchingSchema.prefault({}),
    queue: queueSchema.prefault({}),
    spool: spoolSchema.prefault({}),
    dlq: gatewayDeadLetterSchema.prefault({}),
    reload: reloadSchema.prefault({}),
    opcua_server: opcuaServerConfigSchema.prefault({}),
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
    for (const name of Object.keys(config.opcua_server.write_through)) {
      if (!seen.has(name)) {
        ctx.addIssue({ code: 'custom', path: ['opcua_server', 'write_through', name], message: `no source is named "${name}"` });
      }
    }
  });

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
export type SourceConfig = GatewayConfig['sources'][number];

/** The protocol a validated source names. */
export function protocolOf(source: SourceConfig): Protocol {
  const key = protocolKeys.find((k) => (source as Record<string, unknown>)[k] !== undefined);
  if (!key) throw new Error(`source ${source.name} names no protocol`);
  return key;
}
