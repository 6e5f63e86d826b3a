import type { Protocol } from '../common/reading.ts';
import type { TableCounts } from './pipeline/enqueue.ts';
import type { KeptRejection } from './pipeline/rejections.ts';
import type { ConnectionState } from './sources/types.ts';

/** What GET /status returns. */
export interface GatewayStatus {
  gatewayId: string;
  runId: string;
  startedAt: string;
  sources: SourceStatusEntry[];
  tables: Record<string, TableCounts>;
  pending: {
    /** Batches waiting in memory for Redis. */
    batches: number;
    records: number;
    bytes: number;
    /** Records in batches still filling. */
    openRecords: number;
  };
  redis: {
    /** Failed writes since the last success; above 0 means Redis is unreachable now. */
    consecutiveFailures: number;
    lastError?: string;
    lastErrorAt?: string;
  };
}

export interface SourceStatusEntry {
  name: string;
  protocol: Protocol;
  enabled: boolean;
  table: string;
  state: ConnectionState | 'disabled';
  lastError?: string;
  lastErrorAt?: string;
  readings: number;
  lastSeq: number;
  rejected: number;
  recentRejections: KeptRejection[];
}
