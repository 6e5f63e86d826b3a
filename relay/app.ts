import { setMaxListeners } from 'node:events';
import { Queue, type Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { BATCH_JOB_NAME, queueNameFor, tableRegistryKey, type BatchJob } from '../common/batch.ts';
import { DeadLetterStore } from '../common/dlq/store.ts';
import type { Logger } from '../common/logger.ts';
import { createApp, type ReadyReport } from './api/app.ts';
import type { CircuitState } from './breaker.ts';
import type { RelayConfig } from './config.ts';
import { listen } from '../common/net/http-server.ts';
import { settledWithin } from './settled-within.ts';
import { createRelayMetrics } from './metrics.ts';
import type { BatchResult } from './processor.ts';
import { applyStatusToMetrics, buildStatus, type RelayStatus } from './status.ts';
import { TableState } from './table-state.ts';
import { startTableWorker } from './worker.ts';
import { ZerobusClient } from './zerobus/client.ts';

/** Completed jobs kept per queue for inspection, as the gateway keeps them. */
export const KEEP_COMPLETED_JOBS = 1_000;
/** Streams get this long to hear the last acks once no job waits for them any more. */
export const STREAM_CLOSE_GRACE_MS = 1_000;
/** Longest /ready waits for each check. */
export const READY_CHECK_TIMEOUT_MS = 1_000;

export interface RunningRelay {
  httpPort: number;
  status(): Promise<RelayStatus>;
  stop(): Promise<void>;
}

/** Wires the relay: table discovery, a worker per table queue, the Zerobus client and the HTTP API. */
export async function startRelay(config: RelayConfig, deps: { log: Logger; registry?: Registry }): Promise<RunningRelay> {
  const relayId = config.relay.id;
  const log = deps.log.child({ component: 'relay' });
  const startedAtMs = Date.now();
  const metrics = createRelayMetrics(deps.registry ?? new Registry());
  const tables = new Map<string, { state: TableState; worker: Worker<BatchJob, BatchResult> }>();
  const client = new ZerobusClient(config.zerobus, deps.log.child({ component: 'zerobus' }), {
    onRecovery: (table, reason) => metrics.streamRecoveries.inc({ table, reason }),
    onAck: (table, _records, latencyMs) => tables.get(table)?.state.ackLatency.add(latencyMs, Date.now()),
  });
  // Workers wait through Redis outages (BullMQ needs maxRetriesPerRequest null); the API and
  // discovery fail fast instead, so /status and /ready answer while Redis is away.
  const workerRedis = new Redis(config.redis.url, { maxRetriesPerRequest: null, connectionName: `relay-${relayId}` });
  const apiRedis = new Redis(config.redis.url, { maxRetriesPerRequest: 1, connectionName: `relay-${relayId}-api` });
  workerRedis.on('error', (err) => log.warn({ err: err.message }, 'Redis connection error.'));
  apiRedis.on('error', (err) => log.debug({ err: err.message }, 'Redis connection error (API).'));
  const limits = { maxEntries: config.dlq.max_entries, maxBytes: config.dlq.max_bytes };
  const workerDlq = new DeadLetterStore({ redis: workerRedis, prefix: config.redis.prefix, limits });
  const apiDlq = new DeadLetterStore({ redis: apiRedis, prefix: config.redis.prefix, limits });
  const queues = new Map<string, Queue>();
  const queueFor = (table: string): Queue => {
    let queue = queues.get(table);
    if (!queue) {
      queue = new Queue(queueNameFor(table), {
        connection: apiRedis,
        prefix: config.redis.prefix,
        defaultJobOptions: { removeOnComplete: { count: KEEP_COMPLETED_JOBS }, removeOnFail: false },
      });
      queue.on('error', (err) => log.debug({ err: err.message, table }, 'BullMQ queue error.'));
      queues.set(table, queue);
    }
    return queue;
  };
  const returning = new AbortController();
  // Every batch in progress listens for it (and stops listening when done): as many as the concurrency of every table.
  setMaxListeners(0, returning.signal);
  let stopping = false;

  const onCircuitChange = (table: string, state: CircuitState) => {
    metrics.circuitState.set({ table }, state === 'closed' ? 0 : state === 'open' ? 1 : 2);
    if (state === 'open') log.warn({ table, cooldownMs: config.circuit.cooldown_ms }, 'Circuit opened; batches for the table wait in the queue.');
    else if (state === 'closed') log.info({ table }, 'Circuit closed; batches flow again.');
  };

  const serveTable = (table: string) => {
    if (tables.has(table) || stopping) return;
    const state = new TableState(
      table,
      { failureThreshold: config.circuit.failure_threshold, cooldownMs: config.circuit.cooldown_ms, probeWaitMs: config.circuit.probe_wait_ms },
      onCircuitChange,
    );
    metrics.circuitState.set({ table }, 0);
    const worker = startTableWorker({
      state,
      connection: workerRedis,
      prefix: config.redis.prefix,
      name: relayId,
      concurrency: config.workers.concurrency,
      lockDurationMs: config.workers.lock_duration_ms,
      stalledIntervalMs: config.workers.stalled_interval_ms,
      maxStalledCount: config.workers.max_stalled_count,
      client,
      dlq: workerDlq,
      attempts: config.workers.attempts,
      backoff: { initialMs: config.workers.backoff_initial_ms, maxMs: config.workers.backoff_max_ms },
      circuitSpreadMs: config.circuit.probe_wait_ms,
      isolationMaxSends: config.workers.isolation_max_sends,
      metrics,
      returning: returning.signal,
      log: deps.log.child({ component: 'worker', table }),
    });
    tables.set(table, { state, worker });
    metrics.tablesServed.set(tables.size);
    log.info({ table, concurrency: config.workers.concurrency }, 'Serving table queue.');
  };

  const discover = async () => {
    const found = config.workers.tables.length > 0 ? config.workers.tables : await apiRedis.smembers(tableRegistryKey(config.redis.prefix));
    for (const table of found) serveTable(table);
  };
  await discover().catch((err: Error) => log.warn({ err: err.message }, 'Table discovery failed; will retry.'));
  const discovery = setInterval(() => {
    discover().catch((err: Error) => log.warn({ err: err.message }, 'Table discovery failed; will retry.'));
  }, config.workers.discovery_interval_ms);

  const status = () =>
    buildStatus({
      relayId,
      startedAtMs,
      stopping: () => stopping,
      concurrency: config.workers.concurrency,
      tables: () => [...tables.values()].map(({ state, worker }) => ({ state, running: worker.isRunning() })),
      queue: queueFor,
      dlq: apiDlq,
      streams: () => client.status(),
    });

  const ready = async (): Promise<ReadyReport> => {
    const [redisOk, zerobusOk] = await Promise.all([
      settledWithin(apiRedis.ping(), READY_CHECK_TIMEOUT_MS).then(async (settled) => settled && apiRedis.status === 'ready'),
      client.reachable(READY_CHECK_TIMEOUT_MS),
    ]);
    const checks = {
      redis: redisOk ? { ok: true } : { ok: false, detail: `no answer from Redis within ${READY_CHECK_TIMEOUT_MS} ms` },
      zerobus: zerobusOk ? { ok: true } : { ok: false, detail: `no connection to ${config.zerobus.endpoint} within ${READY_CHECK_TIMEOUT_MS} ms` },
      accepting: stopping ? { ok: false, detail: 'the relay is stopping' } : { ok: true },
    };
    return { ready: Object.values(checks).every((c) => c.ok), checks };
  };

  const enqueue = async (job: BatchJob, jobId: string) => {
    await apiRedis.sadd(tableRegistryKey(config.redis.prefix), job.table);
    await queueFor(job.table).add(BATCH_JOB_NAME, job, { jobId });
  };

  const app = createApp({
    status,
    ready,
    metrics: async () => {
      applyStatusToMetrics(await status(), metrics);
      return { text: await metrics.registry.metrics(), contentType: metrics.registry.contentType };
    },
    dlq: apiDlq,
    enqueue,
    token: config.api.token,
    log: deps.log.child({ component: 'api' }),
  });
  const http = await listen(app, config.http.host, config.http.port);
  log.info({ relayId, host: config.http.host, port: http.port, tables: [...tables.keys()] }, 'Relay started.');

  let stopped: Promise<void> | undefined;
  const shutdown = async () => {
    const deadline = Date.now() + config.shutdown.timeout_ms;
    stopping = true;
    clearInterval(discovery);
    // Stop taking jobs; the ones in progress may finish for drain_ms, then go back to the queue.
    const closing = Promise.all([...tables.values()].map(({ worker }) => worker.close()));
    if (!(await settledWithin(closing, config.shutdown.drain_ms))) {
      const active = [...tables.values()].reduce((n, t) => n + t.state.counters.active, 0);
      log.warn({ active, drainMs: config.shutdown.drain_ms }, 'Batches still in progress at the end of the drain; returning them to the queue.');
      returning.abort();
      await settledWithin(closing, deadline - Date.now());
    }
    await settledWithin(client.close(STREAM_CLOSE_GRACE_MS), deadline - Date.now());
    await http.close();
    await settledWithin(Promise.all([...queues.values()].map((q) => q.close())), deadline - Date.now());
    await Promise.all([apiRedis, workerRedis].map((r) => r.quit().catch(() => r.disconnect())));
  };
  const stop = () => {
    stopped ??= (async () => {
      if (await settledWithin(shutdown(), config.shutdown.timeout_ms)) {
        log.info({ relayId }, 'Relay stopped.');
        return;
      }
      log.warn({ relayId, timeoutMs: config.shutdown.timeout_ms }, 'Stop did not finish in time; giving up. Jobs still locked return to the queue through stalled-job recovery.');
      workerRedis.disconnect();
      apiRedis.disconnect();
    })();
    return stopped;
  };
  return { httpPort: http.port, status, stop };
}
