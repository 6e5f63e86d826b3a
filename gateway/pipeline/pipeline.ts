import type { Logger } from '../../common/logger.ts';
import type { SourceReading } from '../../common/reading.ts';
import type { GatewayConfig } from '../config.ts';
import type { GatewayEvents } from '../events.ts';
import type { Rejection, SourceContext } from '../sources/types.ts';
import { Batcher } from './batcher.ts';
import { Enqueuer, type EnqueueStatus } from './enqueue.ts';
import type { PipelineMetrics } from './metrics.ts';
import type { BatchSink } from './redis-sink.ts';
import { RejectionStore, type KeptRejection } from './rejections.ts';
import { Stamper } from './stamp.ts';

export interface PipelineOptions {
  config: GatewayConfig;
  runId: string;
  log: Logger;
  metrics: PipelineMetrics;
  sink: BatchSink;
  /** Where every stamped reading and declared tag set is announced to in-process consumers. */
  events: GatewayEvents;
}

export interface SourceCounts {
  readings: number;
  lastSeq: number;
  rejected: number;
  recentRejections: KeptRejection[];
}

/** Source readings in, stamped and batched, out to the enqueuer: the path every reading takes. */
export class Pipeline {
  readonly stamper: Stamper;
  readonly #log: Logger;
  readonly #metrics: PipelineMetrics;
  readonly #batcher: Batcher;
  readonly #enqueuer: Enqueuer;
  readonly #rejections: RejectionStore;
  readonly #events: GatewayEvents;
  readonly #readings = new Map<string, number>();
  #stopping: Promise<void> | undefined;

  constructor(o: PipelineOptions) {
    this.#log = o.log;
    this.#metrics = o.metrics;
    this.stamper = new Stamper(o.config.gateway.id, o.runId);
    this.#enqueuer = new Enqueuer({ sink: o.sink, gatewayId: o.config.gateway.id, runId: o.runId, log: o.log, metrics: o.metrics });
    const b = o.config.batching;
    this.#batcher = new Batcher({ maxRecords: b.max_records, maxBytes: b.max_bytes, maxWaitMs: b.max_wait_ms }, o.config.routing.record_type, (batch) =>
      this.#enqueuer.push(batch),
    );
    this.#rejections = new RejectionStore(o.log, o.metrics);
    this.#events = o.events;
  }

  /** The context a source runs with: its readings go to `table`. */
  contextFor(source: string, table: string, log: Logger): SourceContext {
    return {
      emit: (reading) => this.emit(table, reading),
      reject: (rejection) => this.#rejections.record(source, rejection),
      describe: (tags) => this.#announce(() => this.#events.emit('tags', source, tags)),
      log,
    };
  }

  emit(table: string, sourceReading: SourceReading): void {
    const source = sourceReading.source;
    this.#readings.set(source, (this.#readings.get(source) ?? 0) + 1);
    this.#metrics.recordsRead.inc({ source });
    const reading = this.stamper.stamp(sourceReading);
    if (this.#events.listenerCount('reading') > 0) this.#announce(() => this.#events.emit('reading', reading));
    try {
      this.#batcher.add(table, reading);
    } catch (err) {
      this.#rejections.record(source, encodeRejection(reading.tag, sourceReading, err as Error));
    }
  }

  /** A listener that throws must not stop the reading on its way to Redis. */
  #announce(emit: () => void): void {
    try {
      emit();
    } catch (err) {
      this.#log.warn({ err }, 'A gateway event listener failed; the reading still goes on to Redis.');
    }
  }

  sourceCounts(source: string): SourceCounts {
    return {
      readings: this.#readings.get(source) ?? 0,
      lastSeq: this.stamper.lastSeq(source),
      rejected: this.#rejections.count(source),
      recentRejections: this.#rejections.recent(source),
    };
  }

  enqueueStatus(): EnqueueStatus & { openRecords: number } {
    return { ...this.#enqueuer.status(), openRecords: this.#batcher.openRecords() };
  }

  /** Flushes open batches and waits up to timeoutMs for Redis to take them. Safe twice. */
  stop(timeoutMs: number): Promise<void> {
    this.#stopping ??= (async () => {
      this.#batcher.stop();
      await this.#enqueuer.stop(timeoutMs);
      this.#rejections.flush();
      this.#log.debug('Pipeline stopped.');
    })();
    return this.#stopping;
  }
}

function encodeRejection(origin: string, reading: SourceReading, err: Error): Rejection {
  return { origin, kind: 'encode_failed', reason: `cannot encode the reading: ${err.message}`, payload: JSON.stringify(reading.value) };
}
