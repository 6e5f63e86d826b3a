import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** queue_depth states, as BullMQ counts them (waiting includes prioritized jobs). */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/** The relay's metrics, on a registry of its own so tests and several instances don't collide. */
export function createRelayMetrics(registry = new Registry()) {
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    recordsWritten: new Counter({ name: 'records_written_total', help: 'Records durably acked by Zerobus.', labelNames: ['table'], registers }),
    recordsFailed: new Counter({
      name: 'records_failed_total',
      help: 'Records of batch tries that failed, by error code (a retried batch counts at every try).',
      labelNames: ['table', 'code'],
      registers,
    }),
    recordsDeadLettered: new Counter({
      name: 'records_dead_lettered_total',
      help: 'Records stored in the dead-letter queue, by error code and disposition (rejected, retries_exhausted, isolation_budget_exhausted).',
      labelNames: ['table', 'code', 'disposition'],
      registers,
    }),
    recordsDeadLetterRefused: new Counter({
      name: 'records_dead_letter_refused_total',
      help: 'Records the full dead-letter store refused; their job stays in the queue’s failed set.',
      labelNames: ['table'],
      registers,
    }),
    batchesWritten: new Counter({ name: 'batches_written_total', help: 'Batches durably acked by Zerobus.', labelNames: ['table'], registers }),
    batchRetries: new Counter({ name: 'batch_retries_total', help: 'Batches put back with backoff after a temporary error.', labelNames: ['table', 'code'], registers }),
    batchesDelayedByCircuit: new Counter({
      name: 'batches_delayed_by_circuit_total',
      help: 'Batches delayed in the queue because the table’s circuit was open or probing.',
      labelNames: ['table'],
      registers,
    }),
    batchesReturned: new Counter({ name: 'batches_returned_total', help: 'Batches in progress handed back to the queue by a stopping relay.', labelNames: ['table'], registers }),
    batchLatency: new Histogram({
      name: 'batch_latency_seconds',
      help: 'From a batch being taken off the queue to its durability ack.',
      labelNames: ['table'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    queueDepth: new Gauge({ name: 'queue_depth', help: 'Jobs (batches) in each table queue, by state; read from Redis at each scrape.', labelNames: ['table', 'state'], registers }),
    circuitState: new Gauge({ name: 'circuit_breaker_state', help: 'Circuit breaker per table in this relay: 0 closed, 1 open, 2 half-open.', labelNames: ['table'], registers }),
    streamRecoveries: new Counter({
      name: 'zerobus_stream_recoveries_total',
      help: 'Zerobus streams reopened after a failure or a close signal.',
      labelNames: ['table', 'reason'],
      registers,
    }),
    deadLetterEntries: new Gauge({ name: 'dead_letter_store_entries', help: 'Entries in the dead-letter store (all tables, all relays and gateways on this prefix).', registers }),
    deadLetterBytes: new Gauge({ name: 'dead_letter_store_bytes', help: 'Bytes of entries in the dead-letter store.', registers }),
    deadLetterRefused: new Gauge({ name: 'dead_letter_store_refused', help: 'Entries the dead-letter store has refused at its bound, ever.', registers }),
    tablesServed: new Gauge({ name: 'relay_tables_served', help: 'Table queues this relay has workers on.', registers }),
  };
}

export type RelayMetrics = ReturnType<typeof createRelayMetrics>;
