import { hostname } from 'node:os';
import { z } from 'zod';
import { httpSchema, logSchema, redisSchema, secretString } from '../common/config/shared.ts';
import { deadLetterConfigSchema } from '../common/dlq/config.ts';
import { Secret } from '../common/secret.ts';
import { tableName } from '../common/tables.ts';

export const DEFAULT_RELAY_HTTP_PORT = 8080;
export const DEFAULT_ACK_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_INFLIGHT_BATCHES = 64;
export const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;
export const DEFAULT_TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;
export const DEFAULT_RECOVERY_ATTEMPTS = 5;
export const DEFAULT_RECOVERY_INITIAL_MS = 200;
export const DEFAULT_RECOVERY_MAX_MS = 10_000;
export const DEFAULT_WORKER_CONCURRENCY = 8;
export const DEFAULT_DISCOVERY_INTERVAL_MS = 5_000;
export const DEFAULT_JOB_ATTEMPTS = 10;
export const DEFAULT_BACKOFF_INITIAL_MS = 1_000;
export const DEFAULT_BACKOFF_MAX_MS = 300_000;
export const DEFAULT_LOCK_DURATION_MS = 30_000;
export const DEFAULT_STALLED_INTERVAL_MS = 15_000;
export const DEFAULT_MAX_STALLED_COUNT = 5;
export const DEFAULT_ISOLATION_MAX_SENDS = 200;
export const DEFAULT_CIRCUIT_FAILURE_THRESHOLD = 5;
export const DEFAULT_CIRCUIT_COOLDOWN_MS = 15_000;
export const DEFAULT_CIRCUIT_PROBE_WAIT_MS = 1_000;
export const DEFAULT_SHUTDOWN_DRAIN_MS = 10_000;
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 20_000;
export const MIN_API_TOKEN_CHARS = 16;

const NAME = /^[A-Za-z0-9_.-]+$/;

export const zerobusSchema = z
  .object({
    endpoint: z
      .string()
      .min(1)
      .describe('Zerobus gRPC endpoint: https://<workspace_id>.zerobus.<region>.cloud.databricks.com, or host:port.'),
    workspace_url: z
      .url({ protocol: /^https?$/ })
      .describe('Workspace URL; the OAuth token endpoint is {workspace_url}/oidc/v1/token.'),
    workspace_id: z
      .string()
      .regex(/^[A-Za-z0-9-]+$/, { message: 'expected the numeric workspace id' })
      .optional()
      .describe('Workspace id; defaults to the first DNS label of the endpoint.'),
    client_id: z.string().min(1).describe('Service principal application (client) id.'),
    client_secret: secretString().describe('Service principal OAuth secret. Use ${ENV_VAR}; never commit it.'),
    insecure: z.boolean().default(false).describe('Plaintext gRPC, for the emulator only. Never for a real workspace.'),
    ca_file: z.string().min(1).optional().describe('Extra CA certificate (PEM) trusted besides the system roots, e.g. a TLS-inspecting proxy.'),
    ack_timeout_ms: z
      .number()
      .int()
      .min(100)
      .default(DEFAULT_ACK_TIMEOUT_MS)
      .describe('A stream with requests in flight that hears nothing for this long is dead.'),
    connect_timeout_ms: z.number().int().min(100).default(DEFAULT_CONNECT_TIMEOUT_MS).describe('Longest wait for create_stream_response.'),
    max_inflight_batches: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(DEFAULT_MAX_INFLIGHT_BATCHES)
      .describe('Batches sent but not yet acked per stream; past it, senders wait.'),
    token_refresh_margin_ms: z
      .number()
      .int()
      .min(0)
      .default(DEFAULT_TOKEN_REFRESH_MARGIN_MS)
      .describe('A cached token is refreshed this long before it expires.'),
    recovery_attempts: z
      .number()
      .int()
      .min(0)
      .max(100)
      .default(DEFAULT_RECOVERY_ATTEMPTS)
      .describe('Stream reopenings after consecutive retryable failures before pending batches are handed back (retryable) to the worker.'),
    recovery_initial_ms: z
      .number()
      .int()
      .min(1)
      .default(DEFAULT_RECOVERY_INITIAL_MS)
      .describe('First delay before reopening a failed stream (doubles per attempt, with jitter); also the first wait before the gRPC channel reconnects.'),
    recovery_max_ms: z
      .number()
      .int()
      .min(1)
      .default(DEFAULT_RECOVERY_MAX_MS)
      .describe('Longest delay before reopening a failed stream; also the longest wait between reconnections of the gRPC channel after an outage.'),
  })
  .strict()
  .describe('Where batches go: the Databricks Zerobus service (or the emulator).');

export const relayConfigSchema = z
  .object({
    relay: z
      .object({
        id: z
          .string()
          .regex(NAME, { message: 'expected letters, digits, _, . or -' })
          .default(() => `${hostname().replace(/[^A-Za-z0-9_.-]/g, '-')}-${process.pid}`)
          .meta({ description: 'Relay id shown in status and logs.', 'x-default': '<host name>-<pid>' }),
      })
      .strict()
      .prefault({}),
    log: logSchema.prefault({}),
    redis: redisSchema.prefault({}),
    http: httpSchema(DEFAULT_RELAY_HTTP_PORT).prefault({}),
    zerobus: zerobusSchema,
    workers: z
      .object({
        concurrency: z.number().int().min(1).max(1000).default(DEFAULT_WORKER_CONCURRENCY).describe('Batches processed at once per table queue.'),
        tables: z.array(tableName).default([]).describe('Tables to serve; empty serves every table gateways announce in Redis.'),
        discovery_interval_ms: z.number().int().min(100).default(DEFAULT_DISCOVERY_INTERVAL_MS).describe('How often announced tables are looked up.'),
        attempts: z.number().int().min(1).max(1000).default(DEFAULT_JOB_ATTEMPTS).describe('Tries per batch before it is dead-lettered.'),
        backoff_initial_ms: z.number().int().min(1).default(DEFAULT_BACKOFF_INITIAL_MS).describe('First retry delay; doubles per try, with jitter.'),
        backoff_max_ms: z.number().int().min(1).default(DEFAULT_BACKOFF_MAX_MS).describe('Longest retry delay.'),
        lock_duration_ms: z
          .number()
          .int()
          .min(1_000)
          .default(DEFAULT_LOCK_DURATION_MS)
          .describe('BullMQ job lock, renewed every half of it while a batch is in progress. A relay that dies holds its jobs at most this long.'),
        stalled_interval_ms: z
          .number()
          .int()
          .min(1_000)
          .default(DEFAULT_STALLED_INTERVAL_MS)
          .describe('How often each relay looks for jobs whose lock expired (their relay died) and puts them back in the queue.'),
        max_stalled_count: z
          .number()
          .int()
          .min(1)
          .max(1_000)
          .default(DEFAULT_MAX_STALLED_COUNT)
          .describe('Times a job may be recovered from a dead relay before BullMQ moves it to the failed set.'),
        isolation_max_sends: z
          .number()
          .int()
          .min(1)
          .max(100_000)
          .default(DEFAULT_ISOLATION_MAX_SENDS)
          .describe('Most sends spent splitting one refused batch to find its bad records; what is left unresolved is dead-lettered as it is.'),
      })
      .strict()
      .prefault({}),
    circuit: z
      .object({
        failure_threshold: z
          .number()
          .int()
          .min(1)
          .max(1_000)
          .default(DEFAULT_CIRCUIT_FAILURE_THRESHOLD)
          .describe('Consecutive batch failures with a temporary error that open a table’s circuit.'),
        cooldown_ms: z
          .number()
          .int()
          .min(100)
          .default(DEFAULT_CIRCUIT_COOLDOWN_MS)
          .describe('How long an open circuit keeps batches waiting (delayed in the queue) before one probe batch is tried.'),
        probe_wait_ms: z
          .number()
          .int()
          .min(10)
          .default(DEFAULT_CIRCUIT_PROBE_WAIT_MS)
          .describe('While the probe is in flight, other batches wait this long (plus jitter) before they are tried again.'),
      })
      .strict()
      .prefault({})
      .describe('Circuit breaker per table, in each relay.'),
    dlq: deadLetterConfigSchema.prefault({}),
    api: z
      .object({
        token: z
          .string()
          .min(MIN_API_TOKEN_CHARS, { message: `expected at least ${MIN_API_TOKEN_CHARS} characters` })
          .transform((s) => new Secret(s))
          .optional()
          .describe('Bearer token for the API’s mutating endpoints (replay, delete). Unset: they answer 403. Use ${ENV_VAR}.'),
      })
      .strict()
      .prefault({}),
    shutdown: z
      .object({
        drain_ms: z
          .number()
          .int()
          .min(0)
          .default(DEFAULT_SHUTDOWN_DRAIN_MS)
          .describe('On SIGTERM/SIGINT, batches in progress may finish for this long; the rest go back to the queue.'),
        timeout_ms: z
          .number()
          .int()
          .min(100)
          .default(DEFAULT_SHUTDOWN_TIMEOUT_MS)
          .describe('The stop never takes longer: past it the process exits 0 anyway, and jobs still locked return through stalled-job recovery.'),
      })
      .strict()
      .prefault({})
      .refine((s) => s.timeout_ms > s.drain_ms, { message: 'timeout_ms must be greater than drain_ms', path: ['timeout_ms'] }),
  })
  .strict();

export type RelayConfig = z.output<typeof relayConfigSchema>;
export type ZerobusConfig = z.output<typeof zerobusSchema>;
