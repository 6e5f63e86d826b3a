import { Counter, Registry } from 'prom-client';
import type { Env } from '../common/config/interpolate.ts';
import type { Logger } from '../common/logger.ts';
import type { AggregatedServer } from '../opcua-server/index.ts';
import type { GatewayConfig } from './config.ts';
import { GatewayEvents } from './events.ts';
import { routeNodeOpcuaLogs } from './node-opcua-log.ts';
import { listen, type HttpServer } from '../common/net/http-server.ts';
import { createHttpApp } from './http.ts';
import { connectDeadLetterRedis } from './pipeline/dead-letter-redis.ts';
import { DeadLetterForwarder } from './pipeline/dead-letters.ts';
import { Enqueuer } from './pipeline/enqueue.ts';
import { createPipelineMetrics, registerLiveGauges } from './pipeline/metrics.ts';
import { Pipeline } from './pipeline/pipeline.ts';
import { RedisBatchSink } from './pipeline/redis-sink.ts';
import type { RejectionStore } from './pipeline/rejections.ts';
import { newRunId } from './pipeline/stamp.ts';
import type { ReloadPlan } from './reload/diff.ts';
import { Reloader, type ReloadResult, type ReloadTrigger } from './reload/reloader.ts';
import { SourceSet } from './source-set.ts';
import type { SpoolFs } from './spool/fs.ts';
import { loadSpoolKey } from './spool/key.ts';
import { Spool } from './spool/spool.ts';
import { SOURCE_SPECS } from './sources/registry.ts';
import type { SourceSpec } from './sources/types.ts';
import type { GatewayStatus, Readiness } from './status.ts';

export type { GatewayStatus } from './status.ts';

export interface GatewayDeps {
  log: Logger;
  /** Where metrics are registered; a fresh registry when absent. */
  registry?: Registry;
  /** In-process events (readings, tags, sources); a fresh bus when absent. */
  events?: GatewayEvents;
  /** The file the config came from: reload reads it again. Absent: no reload. */
  configFile?: string;
  /** Environment for ${VAR} in a reloaded file; process.env when absent. */
  env?: Env;
  /** Source plugins; the registry's when absent (a test may add its own). */
  sourceSpecs?: ReadonlyArray<SourceSpec<any>>;
  /** File access for the spool's segments; the real file system when absent (a test injects faults). */
  spoolFs?: SpoolFs;
}

export interface Gateway {
  readonly gatewayId: string;
  readonly runId: string;
  readonly httpPort: number;
  /** opc.tcp:// endpoint of the aggregated OPC UA server, when it runs. */
  readonly opcuaEndpointUrl: string | undefined;
  readonly events: GatewayEvents;
  /** Payloads the sources could not turn into readings (each is also forwarded to the dead-letter store). */
  readonly rejections: Pick<RejectionStore, 'subscribe'>;
  status(): GatewayStatus;
  ready(): Readiness;
  /** Reads the config file again and applies it (see docs/gateway.md); rejects when there is no file. */
  reload(trigger: ReloadTrigger): Promise<ReloadResult>;
  /** Stops sources, then flushes batches to Redis, or to the spool when Redis is down. Safe twice. */
  stop(): Promise<void>;
}

/** Opens the spool, starts the pipeline to Redis, the HTTP API and every enabled source. */
export async function startGateway(config: GatewayConfig, deps: GatewayDeps): Promise<Gateway> {
  const runId = newRunId();
  const gatewayId = config.gateway.id;
  const log = deps.log.child({ gatewayId, runId });
  // Before any OPC UA part loads node-opcua, which would otherwise print to stdout.
  routeNodeOpcuaLogs(deps.log);
  const registry = deps.registry ?? new Registry();
  const metrics = createPipelineMetrics(registry);
  const events = deps.events ?? new GatewayEvents();
  const startedAtMs = Date.now();
  const startedAt = new Date(startedAtMs).toISOString();

  let enqueuer: Enqueuer | undefined;
  const spool = await openSpool(config, log, deps.spoolFs, (table, records, reason) => enqueuer?.countDrop(table, records, reason));
  const sink = new RedisBatchSink({ url: config.redis.url, prefix: config.redis.prefix, log: log.child({ component: 'enqueue' }) });
  let sources: SourceSet | undefined;
  enqueuer = new Enqueuer({
    sink,
    gatewayId,
    runId,
    log: log.child({ component: 'enqueue' }),
    metrics,
    queue: { maxBatches: config.queue.max_batches, maxBytes: config.queue.max_bytes, policy: config.queue.policy },
    ...(spool ? { spool } : {}),
    onBlockedChange: (blocked) => sources?.setPaused(blocked),
  });
  const b = config.batching;
  const pipeline = new Pipeline({
    gatewayId,
    runId,
    log: log.child({ component: 'pipeline' }),
    metrics,
    batching: { maxRecords: b.max_records, maxBytes: b.max_bytes, maxWaitMs: b.max_wait_ms },
    recordType: config.routing.record_type,
    enqueuer,
    events,
  });
  const d = config.dlq;
  const dlqRedis = connectDeadLetterRedis({
    url: config.redis.url,
    prefix: config.redis.prefix,
    limits: { maxEntries: d.max_entries, maxBytes: d.max_bytes },
    log: log.child({ component: 'dead-letters' }),
  });
  const deadLetters = new DeadLetterForwarder({
    store: dlqRedis.store,
    connected: () => dlqRedis.connected(),
    tableOf: (source) => pipeline.tableOf(source),
    idPrefix: runId,
    maxPayloadChars: d.max_payload_chars,
    backlog: { maxEntries: d.backlog_max_entries, maxBytes: d.backlog_max_bytes },
    backoff: { initialMs: d.retry_initial_ms, maxMs: d.retry_max_ms },
    log: log.child({ component: 'dead-letters' }),
    metrics,
  });
  pipeline.rejections.subscribe((event) => deadLetters.offer(event));
  const set = new SourceSet({ pipeline, events, log, specs: deps.sourceSpecs ?? SOURCE_SPECS });
  sources = set;
  let current = config;

  const apply = async (plan: ReloadPlan) => {
    const next = plan.effective;
    if (plan.batchingChanged) pipeline.setBatchLimits({ maxRecords: next.batching.max_records, maxBytes: next.batching.max_bytes, maxWaitMs: next.batching.max_wait_ms });
    const failed = await set.apply(next, plan.sources);
    current = next;
    return { failed };
  };
  const reloads = new Counter({ name: 'config_reloads_total', help: 'Config reloads, by result (applied or rejected).', labelNames: ['result'], registers: [registry] });
  const reloader = deps.configFile ? new Reloader({ file: deps.configFile, env: deps.env ?? process.env, initial: config, log, apply, reloads }) : undefined;

  const status = (): GatewayStatus => {
    const e = pipeline.enqueueStatus();
    return {
      gatewayId,
      runId,
      startedAt,
      sources: set.entries().map((s) => {
        const st = set.statusOf(s);
        return {
          name: s.name,
          protocol: s.protocol,
          enabled: s.enabled,
          table: s.table,
          state: st.state,
          flow: s.flow,
          ...(st.lastError !== undefined ? { lastError: st.lastError, lastErrorAt: st.lastErrorAt } : {}),
          ...pipeline.sourceCounts(s.name),
          deadLettered: deadLetters.stored(s.name),
          ...(st.details !== undefined ? { details: st.details } : {}),
        };
      }),
      tables: e.tables,
      queue: { ...e.queue, openRecords: e.openRecords },
      spool: e.spool ? { enabled: true, ...e.spool } : { enabled: false },
      spooling: e.spooling,
      blocked: e.blocked,
      redis: e.redis,
      dropped: e.dropped,
      deadLetters: deadLetters.status(),
      ...(opcua ? { opcuaServer: opcua.status() } : {}),
      config: { restartRequired: reloader?.last?.restartRequired ?? [], ...(reloader?.last ? { lastReload: reloader.last } : {}) },
    };
  };
  const ready = (): Readiness => {
    const e = pipeline.enqueueStatus();
    const accepting = e.spool?.accepting ?? false;
    return { ready: e.redis.connected || accepting, redis: { connected: e.redis.connected }, spool: { enabled: e.spool !== undefined, accepting } };
  };
  registerLiveGauges(registry, {
    connections: () => set.entries().map((s) => ({ source: s.name, connected: set.statusOf(s).state === 'connected' })),
    redisConnected: () => sink.connected(),
    spool: () => spool?.status(),
  });

  let http: HttpServer | undefined;
  let opcua: AggregatedServer | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await reloader?.stop();
      await set.stopAll();
      await opcua?.stop();
      const timeoutMs = current.gateway.stop_timeout_ms;
      await Promise.all([pipeline.stop(timeoutMs), deadLetters.stop(timeoutMs).finally(() => dlqRedis.close())]);
      await http?.close();
      log.info('Gateway stopped.');
    })();
    return stopping;
  };

  try {
    http = await listen(
      createHttpApp({
        status,
        ready,
        registry,
        ...(reloader ? { reload: () => reloader.reload('http') } : {}),
        ...(config.http.api_token ? { apiToken: config.http.api_token } : {}),
      }),
      config.http.host,
      config.http.port,
    );
    // Before the sources, so the tags they declare at start build the address space.
    if (config.opcua_server.enabled) {
      // Loaded only when enabled: node-opcua costs tens of MB a gateway without it never pays.
      const { startAggregatedServer } = await import('../opcua-server/index.ts');
      opcua = await startAggregatedServer({
        config: config.opcua_server,
        events,
        log,
        registry,
        gateway: () => {
          const e = pipeline.enqueueStatus();
          const spooled = e.spool?.records ?? 0;
          return { uptimeS: Math.round((Date.now() - startedAtMs) / 1000), queueDepth: e.queue.records + e.openRecords + spooled, spoolBytes: e.spool?.bytes ?? 0 };
        },
      });
    }
    await set.startAll(config);
    await reloader?.watch();
  } catch (err) {
    await stop();
    throw err;
  }
  if (!spool) log.warn('No spool configured (spool.dir): batches wait in memory only while Redis is down, up to queue.max_bytes.');
  const reload = (trigger: ReloadTrigger): Promise<ReloadResult> =>
    reloader ? reloader.reload(trigger) : Promise.reject(new Error('the gateway was started without a config file'));
  return { gatewayId, runId, httpPort: http.port, opcuaEndpointUrl: opcua?.endpointUrl, events, rejections: pipeline.rejections, status, ready, reload, stop };
}

async function openSpool(
  config: GatewayConfig,
  log: Logger,
  fs: SpoolFs | undefined,
  onDrop: (table: string, records: number, reason: 'spool_full' | 'spool_corrupt' | 'disk_full' | 'spool_error') => void,
): Promise<Spool | undefined> {
  const s = config.spool;
  if (s.dir === undefined) return undefined;
  const key = s.encryption ? await loadSpoolKey(s.encryption) : undefined;
  return Spool.open({
    dir: s.dir,
    maxBytes: s.max_bytes,
    segmentBytes: s.segment_bytes,
    policy: s.policy,
    log: log.child({ component: 'spool' }),
    onDrop,
    ...(key ? { key } : {}),
    ...(fs ? { fs } : {}),
  });
}
