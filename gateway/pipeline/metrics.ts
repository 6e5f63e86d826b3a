import { Counter, Gauge, type Registry } from 'prom-client';

/** The gateway's Prometheus metrics, registered on the registry the caller owns. */
export interface PipelineMetrics {
  recordsRead: Counter<'source'>;
  recordsFiltered: Counter<'source'>;
  recordsHeartbeat: Counter<'source'>;
  recordsRejected: Counter<'source' | 'reason'>;
  recordsDeadLettered: Counter<'source' | 'kind'>;
  deadLettersLost: Counter<'source' | 'reason'>;
  deadLetterBacklog: Gauge<string>;
  recordsEnqueued: Counter<'table'>;
  recordsSpooled: Counter<'table'>;
  batchesEnqueued: Counter<'table'>;
  enqueueErrors: Counter<string>;
  recordsDropped: Counter<'table' | 'reason'>;
  queueBatches: Gauge<string>;
  queueRecords: Gauge<string>;
  queueBytes: Gauge<string>;
  blocked: Gauge<string>;
}

export function createPipelineMetrics(registry: Registry): PipelineMetrics {
  const registers = [registry];
  return {
    recordsRead: new Counter({ name: 'records_read_total', help: 'Readings produced by each source.', labelNames: ['source'], registers }),
    recordsFiltered: new Counter({
      name: 'records_filtered_total',
      help: 'Readings report-by-exception kept from Redis (unchanged or within the deadband), per source.',
      labelNames: ['source'],
      registers,
    }),
    recordsHeartbeat: new Counter({
      name: 'records_heartbeat_total',
      help: 'Heartbeat readings re-sent for tags with nothing reported for heartbeat_s, per source.',
      labelNames: ['source'],
      registers,
    }),
    recordsRejected: new Counter({
      name: 'records_rejected_total',
      help: 'Payloads a source could not turn into a reading, by kind of failure.',
      labelNames: ['source', 'reason'],
      registers,
    }),
    recordsDeadLettered: new Counter({
      name: 'records_dead_lettered_total',
      help: 'Rejected payloads stored in the dead-letter store in Redis, by source and kind of failure.',
      labelNames: ['source', 'kind'],
      registers,
    }),
    deadLettersLost: new Counter({
      name: 'records_dead_letter_lost_total',
      help: 'Rejected payloads counted but not stored in the dead-letter store, by reason (dlq_full, backlog_full, shutdown, invalid_entry, no_table).',
      labelNames: ['source', 'reason'],
      registers,
    }),
    deadLetterBacklog: new Gauge({ name: 'dead_letter_backlog', help: 'Rejected payloads waiting in memory for the dead-letter store (Redis unreachable or slow).', registers }),
    recordsEnqueued: new Counter({ name: 'records_enqueued_total', help: 'Records written to Redis, per target table.', labelNames: ['table'], registers }),
    recordsSpooled: new Counter({ name: 'records_spooled_total', help: 'Records written (fsynced) to the disk spool, per target table.', labelNames: ['table'], registers }),
    batchesEnqueued: new Counter({ name: 'batches_enqueued_total', help: 'Batch jobs written to Redis, per target table.', labelNames: ['table'], registers }),
    enqueueErrors: new Counter({ name: 'enqueue_errors_total', help: 'Failed attempts to write a batch to Redis (each is retried).', registers }),
    recordsDropped: new Counter({
      name: 'records_dropped_total',
      help: 'Records lost before reaching Redis, by table and reason (queue_full, blocked, spool_full, disk_full, spool_error, spool_corrupt, shutdown).',
      labelNames: ['table', 'reason'],
      registers,
    }),
    queueBatches: new Gauge({ name: 'queue_batches', help: 'Batches waiting in the memory queue.', registers }),
    queueRecords: new Gauge({ name: 'queue_records', help: 'Records waiting in the memory queue.', registers }),
    queueBytes: new Gauge({ name: 'queue_bytes', help: 'Wire bytes of the batches waiting in the memory queue.', registers }),
    blocked: new Gauge({ name: 'gateway_blocked', help: '1 while the block policy asks the sources to pause.', registers }),
  };
}

/** What the scrape-time gauges read from the running gateway. */
export interface LiveState {
  connections(): Array<{ source: string; connected: boolean }>;
  redisConnected(): boolean;
  spool(): { bytes: number; batches: number; records: number; segments: number; diskFull: boolean; accepting: boolean } | undefined;
}

/**
 * Gauges computed when /metrics is scraped: connection_status per source (1 connected, 0 not;
 * a removed source disappears), redis_connected, and the spool's size and health.
 */
export function registerLiveGauges(registry: Registry, live: LiveState): void {
  const registers = [registry];
  new Gauge({
    name: 'connection_status',
    help: 'Per source: 1 when connected to its server, broker or device, else 0.',
    labelNames: ['source'],
    registers,
    collect() {
      this.reset();
      for (const c of live.connections()) this.set({ source: c.source }, c.connected ? 1 : 0);
    },
  });
  new Gauge({
    name: 'redis_connected',
    help: '1 when the connection to Redis is up.',
    registers,
    collect() {
      this.set(live.redisConnected() ? 1 : 0);
    },
  });
  const spoolGauge = (name: string, help: string, value: (s: NonNullable<ReturnType<LiveState['spool']>>) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const s = live.spool();
        this.set(s ? value(s) : 0);
      },
    });
  spoolGauge('spool_bytes', 'Bytes of the spool segment files on disk.', (s) => s.bytes);
  spoolGauge('spool_batches', 'Batches in the spool not yet delivered to Redis.', (s) => s.batches);
  spoolGauge('spool_records', 'Records in the spool not yet delivered to Redis.', (s) => s.records);
  spoolGauge('spool_segments', 'Spool segment files.', (s) => s.segments);
  spoolGauge('spool_disk_full', '1 while the spool disk refuses writes with ENOSPC.', (s) => (s.diskFull ? 1 : 0));
  spoolGauge('spool_accepting', '1 when the spool takes writes (0: full under block, or failing writes, or no spool).', (s) => (s.accepting ? 1 : 0));
}
