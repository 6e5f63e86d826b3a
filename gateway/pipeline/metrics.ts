import { Counter, Gauge, type Registry } from 'prom-client';

/** The gateway's Prometheus metrics, registered on the registry the caller owns. */
export interface PipelineMetrics {
  recordsRead: Counter<'source'>;
  recordsRejected: Counter<'source' | 'reason'>;
  recordsEnqueued: Counter<'table'>;
  batchesEnqueued: Counter<'table'>;
  enqueueErrors: Counter<string>;
  recordsDropped: Counter<'table' | 'reason'>;
  pendingBatches: Gauge<string>;
  pendingRecords: Gauge<string>;
}

export function createPipelineMetrics(registry: Registry): PipelineMetrics {
  const registers = [registry];
  return {
    recordsRead: new Counter({ name: 'records_read_total', help: 'Readings produced by each source.', labelNames: ['source'], registers }),
    recordsRejected: new Counter({
      name: 'records_rejected_total',
      help: 'Payloads a source could not turn into a reading, by kind of failure.',
      labelNames: ['source', 'reason'],
      registers,
    }),
    recordsEnqueued: new Counter({ name: 'records_enqueued_total', help: 'Records written to Redis, per target table.', labelNames: ['table'], registers }),
    batchesEnqueued: new Counter({ name: 'batches_enqueued_total', help: 'Batch jobs written to Redis, per target table.', labelNames: ['table'], registers }),
    enqueueErrors: new Counter({ name: 'enqueue_errors_total', help: 'Failed attempts to write a batch to Redis (each is retried).', registers }),
    recordsDropped: new Counter({
      name: 'records_dropped_total',
      help: 'Records lost before reaching Redis: overflow of the pending list, or pending at shutdown.',
      labelNames: ['table', 'reason'],
      registers,
    }),
    pendingBatches: new Gauge({ name: 'pending_batches', help: 'Batches waiting in memory for Redis.', registers }),
    pendingRecords: new Gauge({ name: 'pending_records', help: 'Records waiting in memory for Redis.', registers }),
  };
}
