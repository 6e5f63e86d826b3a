import { serve, type ServerType } from '@hono/node-server';
import type { Worker } from 'bullmq';
import { Hono } from 'hono';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { tableRegistryKey } from '../common/batch.ts';
import type { Logger } from '../common/logger.ts';
import type { RelayConfig } from './config.ts';
import { createRelayMetrics } from './metrics.ts';
import { startTableWorker } from './worker.ts';
import { ZerobusClient, type StreamStatus } from './zerobus/client.ts';

export const SHUTDOWN_GRACE_MS = 10_000;

export interface RelayStatus {
  relayId: string;
  tables: string[];
  streams: StreamStatus[];
}

export interface RunningRelay {
  httpPort: number;
  status(): RelayStatus;
  stop(): Promise<void>;
}

/** Wires the relay: table discovery, a worker per table queue, the Zerobus client and HTTP. */
export async function startRelay(config: RelayConfig, deps: { log: Logger; registry?: Registry }): Promise<RunningRelay> {
  const log = deps.log.child({ component: 'relay' });
  const metrics = createRelayMetrics(deps.registry ?? new Registry());
  const client = new ZerobusClient(config.zerobus, deps.log.child({ component: 'zerobus' }), {
    onRecovery: (table, reason) => metrics.streamRecoveries.inc({ table, reason }),
  });
  // One connection for discovery; BullMQ workers need maxRetriesPerRequest null.
  const redis = new Redis(config.redis.url, { maxRetriesPerRequest: null, lazyConnect: false });
  redis.on('error', (err) => log.warn({ err: err.message }, 'Redis connection error.'));
  const workers = new Map<string, Worker>();

  const serveTable = (table: string) => {
    if (workers.has(table)) return;
    const worker = startTableWorker({
      table,
      connection: redis,
      prefix: config.redis.prefix,
      concurrency: config.workers.concurrency,
      attempts: config.workers.attempts,
      backoff: { initialMs: config.workers.backoff_initial_ms, maxMs: config.workers.backoff_max_ms },
      client,
      metrics,
      log: deps.log.child({ component: 'worker', table }),
    });
    workers.set(table, worker);
    metrics.tablesServed.set(workers.size);
    log.info({ table, concurrency: config.workers.concurrency }, 'Serving table queue.');
  };

  const discover = async () => {
    const tables = config.workers.tables.length > 0 ? config.workers.tables : await redis.smembers(tableRegistryKey(config.redis.prefix));
    for (const table of tables) serveTable(table);
  };
  await discover().catch((err: Error) => log.warn({ err: err.message }, 'Table discovery failed; will retry.'));
  const discovery = setInterval(() => {
    discover().catch((err: Error) => log.warn({ err: err.message }, 'Table discovery failed; will retry.'));
  }, config.workers.discovery_interval_ms);

  const status = (): RelayStatus => ({ relayId: config.relay.id, tables: [...workers.keys()], streams: client.status() });
  const app = new Hono();
  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.get('/status', (c) => c.json(status()));
  app.get('/metrics', async (c) => c.text(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }));
  const { server, port } = await listen(app, config.http.host, config.http.port);
  log.info({ relayId: config.relay.id, host: config.http.host, port }, 'Relay started.');

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      clearInterval(discovery);
      // Stop taking jobs and let the active ones finish; the client gives them a grace period.
      const closing = [...workers.values()].map((w) => w.close());
      await client.close(SHUTDOWN_GRACE_MS);
      await Promise.all(closing);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await redis.quit().catch(() => redis.disconnect());
      log.info({ relayId: config.relay.id }, 'Relay stopped.');
    })();
    return stopping;
  };
  return { httpPort: port, status, stop };
}

function listen(app: Hono, hostname: string, port: number): Promise<{ server: ServerType; port: number }> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname, port }, (info) => resolve({ server, port: info.port }));
    server.once('error', reject);
  });
}
