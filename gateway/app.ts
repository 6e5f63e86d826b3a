import { Registry } from 'prom-client';
import type { Logger } from '../common/logger.ts';
import type { Protocol } from '../common/reading.ts';
import { protocolOf, type GatewayConfig, type SourceConfig } from './config.ts';
import { GatewayEvents } from './events.ts';
import { createHttpApp, listen, type HttpServer } from './http.ts';
import { createPipelineMetrics } from './pipeline/metrics.ts';
import { Pipeline } from './pipeline/pipeline.ts';
import { RedisBatchSink } from './pipeline/redis-sink.ts';
import { newRunId } from './pipeline/stamp.ts';
import { SOURCE_SPECS } from './sources/registry.ts';
import type { Source } from './sources/types.ts';
import type { GatewayStatus } from './status.ts';

export type { GatewayStatus } from './status.ts';

export interface GatewayDeps {
  log: Logger;
  /** Where metrics are registered; a fresh registry when absent. */
  registry?: Registry;
  /** In-process events (readings, tags, sources); a fresh bus when absent. */
  events?: GatewayEvents;
}

export interface Gateway {
  readonly gatewayId: string;
  readonly runId: string;
  readonly httpPort: number;
  readonly events: GatewayEvents;
  status(): GatewayStatus;
  /** Stops sources, flushes batches, waits for Redis (bounded), closes queues and HTTP. Safe twice. */
  stop(): Promise<void>;
}

interface RunningSource {
  name: string;
  protocol: Protocol;
  table: string;
  enabled: boolean;
  source?: Source;
}

/** Starts every enabled source, the pipeline to Redis and the HTTP API. */
export async function startGateway(config: GatewayConfig, deps: GatewayDeps): Promise<Gateway> {
  const runId = newRunId();
  const gatewayId = config.gateway.id;
  const log = deps.log.child({ gatewayId, runId });
  const registry = deps.registry ?? new Registry();
  const metrics = createPipelineMetrics(registry);
  const sink = new RedisBatchSink({ url: config.redis.url, prefix: config.redis.prefix, log: log.child({ component: 'enqueue' }) });
  const events = deps.events ?? new GatewayEvents();
  const pipeline = new Pipeline({ config, runId, log: log.child({ component: 'pipeline' }), metrics, sink, events });
  const stopTimeoutMs = config.gateway.stop_timeout_ms;
  const startedAt = new Date().toISOString();
  const sources = config.sources.map((s) => createSource(config, s));

  const status = (): GatewayStatus => {
    const enqueue = pipeline.enqueueStatus();
    return {
      gatewayId,
      runId,
      startedAt,
      sources: sources.map((s) => {
        const st = s.source?.status();
        return {
          name: s.name,
          protocol: s.protocol,
          enabled: s.enabled,
          table: s.table,
          state: st?.state ?? 'disabled',
          ...(st?.lastError !== undefined ? { lastError: st.lastError, lastErrorAt: st.lastErrorAt } : {}),
          ...pipeline.sourceCounts(s.name),
        };
      }),
      tables: enqueue.tables,
      pending: { batches: enqueue.pendingBatches, records: enqueue.pendingRecords, bytes: enqueue.pendingBytes, openRecords: enqueue.openRecords },
      redis: {
        consecutiveFailures: enqueue.consecutiveFailures,
        ...(enqueue.lastError !== undefined ? { lastError: enqueue.lastError, lastErrorAt: enqueue.lastErrorAt } : {}),
      },
    };
  };

  let http: HttpServer | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await Promise.allSettled(sources.map((s) => s.source?.stop()));
      for (const s of sources) if (s.source) events.emit('sourceRemoved', s.name);
      await pipeline.stop(stopTimeoutMs);
      await http?.close();
      log.info('Gateway stopped.');
    })();
    return stopping;
  };

  try {
    http = await listen(createHttpApp({ status, registry }), config.http.host, config.http.port);
    for (const s of sources) {
      if (!s.source) continue;
      const source = s.source;
      await source.start(pipeline.contextFor(s.name, s.table, log.child({ source: s.name, protocol: s.protocol })));
      events.emit('sourceAdded', {
        name: s.name,
        protocol: s.protocol,
        table: s.table,
        status: () => source.status(),
        ...(source.write ? { write: (tag, value) => source.write!(tag, value) } : {}),
      });
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const httpPort = http.port;
  return { gatewayId, runId, httpPort, events, status, stop };
}

function createSource(config: GatewayConfig, source: SourceConfig): RunningSource {
  const protocol = protocolOf(source);
  const table = source.table ?? config.routing.tables[protocol];
  const spec = SOURCE_SPECS.find((s) => s.protocol === protocol);
  if (!spec) throw new Error(`no source plugin for protocol ${protocol}`);
  const running: RunningSource = { name: source.name, protocol, table, enabled: source.enabled };
  if (source.enabled) running.source = spec.create(source.name, (source as Record<string, unknown>)[protocol]);
  return running;
}
