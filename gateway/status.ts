import type { Protocol } from '../common/reading.ts';
import type { OpcuaServerStatus } from '../opcua-server/index.ts';
import type { DeadLetterStatus } from './pipeline/dead-letters.ts';
import type { TableCounts } from './pipeline/enqueue.ts';
import type { OverflowPolicy } from './pipeline/memory-queue.ts';
import type { KeptRejection } from './pipeline/rejections.ts';
import type { ReloadResult } from './reload/reloader.ts';
import type { SourceFlow } from './source-set.ts';
import type { SpoolStatus } from './spool/spool.ts';
import type { ConnectionState } from './sources/types.ts';

/** What GET /status returns. */
export interface GatewayStatus {
  gatewayId: string;
  runId: string;
  startedAt: string;
  sources: SourceStatusEntry[];
  tables: Record<string, TableCounts>;
  /** The memory queue in front of Redis and the spool. */
  queue: {
    batches: number;
    records: number;
    bytes: number;
    maxBatches: number;
    maxBytes: number;
    policy: OverflowPolicy;
    /** Records in batches still filling. */
    openRecords: number;
  };
  /** The disk spool; enabled false when spool.dir is unset. */
  spool: (SpoolStatus & { enabled: true }) | { enabled: false };
  /** True while batches go through the spool (Redis failing, or the spool still draining). */
  spooling: boolean;
  /** True while the block policy asks the sources to pause. */
  blocked: boolean;
  redis: {
    connected: boolean;
    /** Failed writes since the last success; above 0 means Redis is unreachable or refusing now. */
    consecutiveFailures: number;
    lastError?: string;
    lastErrorAt?: string;
  };
  /** Records lost since start, by reason (see records_dropped_total). */
  dropped: Record<string, number>;
  /** Rejected payloads forwarded to the dead-letter store in Redis (the relay's GET /dlq). */
  deadLetters: DeadLetterStatus;
  /** The aggregated OPC UA server, when opcua_server.enabled. */
  opcuaServer?: OpcuaServerStatus;
  config: {
    /** Changed settings that wait for a restart. */
    restartRequired: string[];
    lastReload?: ReloadResult;
  };
}

export interface SourceStatusEntry {
  name: string;
  protocol: Protocol;
  enabled: boolean;
  table: string;
  state: ConnectionState | 'disabled' | 'failed';
  /** Under queue policy block: paused, or cannot_pause (keeps sending); else running. */
  flow: SourceFlow;
  lastError?: string;
  lastErrorAt?: string;
  readings: number;
  /** Over the last 5 s. */
  readingsPerSecond: number;
  /** Kept from Redis by report-by-exception. */
  filtered: number;
  heartbeats: number;
  lastSeq: number;
  rejected: number;
  recentRejections: KeptRejection[];
  /** Rejections stored in the dead-letter store (see deadLetters for the ones that were not). */
  deadLettered: number;
  /** What the driver adds (SourceStatus.details): e.g. Modbus per-device counters, MQTT rejections per topic. */
  details?: Record<string, unknown>;
}

/** What GET /ready returns: ready when Redis takes writes or the spool does. */
export interface Readiness {
  ready: boolean;
  redis: { connected: boolean };
  spool: { enabled: boolean; accepting: boolean };
}
