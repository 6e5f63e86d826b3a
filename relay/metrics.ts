import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The relay's metrics, on a registry of its own so tests and several instances don't collide. */
export function createRelayMetrics(registry = new Registry()) {
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    recordsWritten: new Counter({ name: 'records_written_total', help: 'Records durably acked by Zerobus.', labelNames: ['table'], registers: [registry] }),
    recordsFailed: new Counter({
      name: 'records_failed_total',
      help: 'Records of batch attempts that failed, by error code.',
      labelNames: ['table', 'code'],
      registers: [registry],
    }),
    batchesWritten: new Counter({ name: 'batches_written_total', help: 'Batches durably acked by Zerobus.', labelNames: ['table'], registers: [registry] }),
    batchLatency: new Histogram({
      name: 'batch_latency_seconds',
      help: 'From a batch being taken off the queue to its durability ack.',
      labelNames: ['table'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    streamRecoveries: new Counter({
      name: 'zerobus_stream_recoveries_total',
      help: 'Zerobus streams reopened after a failure or a close signal.',
      labelNames: ['table', 'reason'],
      registers: [registry],
    }),
    tablesServed: new Gauge({ name: 'relay_tables_served', help: 'Table queues this relay has workers on.', registers: [registry] }),
  };
}

export type RelayMetrics = ReturnType<typeof createRelayMetrics>;
