import type { Queue } from 'bullmq';
import type { DeadLetterStats, DeadLetterStore } from '../common/dlq/store.ts';
import { CIRCUIT_STATE_VALUE, type CircuitState } from './breaker.ts';
import { QUEUE_STATES, type RelayMetrics } from './metrics.ts';
import type { LastError, TableState } from './table-state.ts';
import type { StreamStatus } from './zerobus/client.ts';

/** Longest a status or metrics read waits for Redis; past it the counts show as unknown. */
export const STATUS_REDIS_TIMEOUT_MS = 2_000;

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  deadLettered: number;
}

export interface TableStatus {
  table: string;
  /** Across every relay on this Redis; null when Redis did not answer in time. */
  queue: QueueCounts | null;
  /** Records landed by this relay, per second over the last minute. */
  recordsPerS: number;
  ackLatencyMs: { p50: number | null; p99: number | null };
  circuit: { state: CircuitState; consecutiveFailures: number; openedAt: string | null; nextProbeAt: string | null; opens: number };
  stream: { state: string; streamId: string | null; pendingBatches: number } | null;
  lastError: { code: string; message: string; at: string } | null;
}

export interface WorkerStatus {
  id: string;
  table: string;
  concurrency: number;
  running: boolean;
  active: number;
  jobsCompleted: number;
  jobsRetried: number;
  jobsDelayedByCircuit: number;
  jobsReturned: number;
  recordsWritten: number;
  recordsDeadLettered: number;
  lastJobAt: string | null;
}

export interface RelayStatus {
  relayId: string;
  startedAt: string;
  uptimeS: number;
  stopping: boolean;
  tables: TableStatus[];
  workers: WorkerStatus[];
  deadLetters: DeadLetterStats | null;
  streams: StreamStatus[];
}

export interface StatusSources {
  relayId: string;
  startedAtMs: number;
  stopping: () => boolean;
  concurrency: number;
  tables: () => Array<{ state: TableState; running: boolean }>;
  queue: (table: string) => Queue;
  dlq: DeadLetterStore;
  streams: () => StreamStatus[];
  now?: () => number;
}

/** Reads the relay's state and Redis's counts into one JSON-ready object. */
export async function buildStatus(s: StatusSources): Promise<RelayStatus> {
  const now = (s.now ?? Date.now)();
  const tables = s.tables();
  const streams = s.streams();
  const counts = await Promise.all(tables.map(({ state }) => queueCounts(s.queue(state.table), s.dlq, state.table)));
  const deadLetters = await withTimeout(s.dlq.stats()).catch(() => null);
  return {
    relayId: s.relayId,
    startedAt: new Date(s.startedAtMs).toISOString(),
    uptimeS: Math.round((now - s.startedAtMs) / 1000),
    stopping: s.stopping(),
    tables: tables.map(({ state }, i) => tableStatus(state, counts[i] ?? null, streams, now)),
    workers: tables.map(({ state, running }) => ({
      id: `${s.relayId}/${state.table}`,
      table: state.table,
      concurrency: s.concurrency,
      running,
      ...state.counters,
      lastJobAt: iso(state.counters.lastJobAtMs),
    })),
    deadLetters,
    streams,
  };
}

/** Sets the gauges that are read at scrape time: queue depth, circuit state, dead-letter store. */
export function applyStatusToMetrics(status: RelayStatus, metrics: RelayMetrics): void {
  for (const t of status.tables) {
    metrics.circuitState.set({ table: t.table }, CIRCUIT_STATE_VALUE[t.circuit.state]);
    if (!t.queue) continue;
    for (const state of QUEUE_STATES) metrics.queueDepth.set({ table: t.table, state }, t.queue[state]);
  }
  if (status.deadLetters) {
    metrics.deadLetterEntries.set(status.deadLetters.entries);
    metrics.deadLetterBytes.set(status.deadLetters.bytes);
    metrics.deadLetterRefused.set(status.deadLetters.refusedTotal);
  }
}

async function queueCounts(queue: Queue, dlq: DeadLetterStore, table: string): Promise<QueueCounts | null> {
  try {
    const [c, deadLettered] = await withTimeout(Promise.all([queue.getJobCounts('wait', 'prioritized', 'active', 'delayed', 'failed'), dlq.count(table)]));
    return {
      waiting: (c.wait ?? 0) + (c.prioritized ?? 0),
      active: c.active ?? 0,
      delayed: c.delayed ?? 0,
      failed: c.failed ?? 0,
      deadLettered,
    };
  } catch {
    return null;
  }
}

function tableStatus(state: TableState, queue: QueueCounts | null, streams: StreamStatus[], now: number): TableStatus {
  const circuit = state.breaker.snapshot();
  const stream = streams.find((s) => s.table === state.table && s.lane === 'shared');
  return {
    table: state.table,
    queue,
    recordsPerS: Math.round(state.written.perSecond(now) * 10) / 10,
    ackLatencyMs: { p50: state.ackLatency.quantile(0.5, now) ?? null, p99: state.ackLatency.quantile(0.99, now) ?? null },
    circuit: {
      state: circuit.state,
      consecutiveFailures: circuit.consecutiveFailures,
      openedAt: iso(circuit.openedAtMs),
      nextProbeAt: iso(circuit.nextProbeAtMs),
      opens: circuit.opens,
    },
    stream: stream ? { state: stream.state, streamId: stream.streamId ?? null, pendingBatches: stream.pendingBatches } : null,
    lastError: lastError(state.lastError),
  };
}

function lastError(e: LastError | undefined): TableStatus['lastError'] {
  return e ? { code: e.code, message: e.message, at: new Date(e.atMs).toISOString() } : null;
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

function withTimeout<T>(work: Promise<T>, ms = STATUS_REDIS_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms)));
  work.catch(() => undefined);
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
