import type { RecordType } from '../../common/batch.ts';
import type { Logger } from '../../common/logger.ts';
import type { Reading, SourceReading } from '../../common/reading.ts';
import type { GatewayEvents } from '../events.ts';
import type { Rejection, SourceContext, TagInfo } from '../sources/types.ts';
import { Batcher, type BatchLimits } from './batcher.ts';
import type { Enqueuer, EnqueueStatus } from './enqueue.ts';
import type { PipelineMetrics } from './metrics.ts';
import { RejectionStore, type KeptRejection } from './rejections.ts';
import { CompiledReport, type ReportConfig } from './report/config.ts';
import { SourceFilter } from './report/filter.ts';
import { isReported } from './report/rules.ts';
import { Stamper } from './stamp.ts';

/** readings/s in /status is the rate over the last window of this length. */
export const RATE_WINDOW_MS = 5_000;
const MS_PER_S = 1000;

export interface PipelineOptions {
  gatewayId: string;
  runId: string;
  log: Logger;
  metrics: PipelineMetrics;
  batching: BatchLimits;
  recordType: RecordType;
  enqueuer: Enqueuer;
  /** Where every reading and declared tag set is announced to in-process consumers. */
  events: GatewayEvents;
}

export interface SourceCounts {
  readings: number;
  readingsPerSecond: number;
  /** Readings report-by-exception kept from Redis. */
  filtered: number;
  heartbeats: number;
  lastSeq: number;
  rejected: number;
  recentRejections: KeptRejection[];
}

interface SourceEntry {
  table: string;
  filter: SourceFilter | undefined;
  tags: TagInfo[];
}

interface Counts {
  readings: number;
  filtered: number;
  heartbeats: number;
  windowStart: number;
  perSecond: number;
}

/**
 * Source readings in; stamped, announced to in-process consumers (every reading), filtered by
 * report-by-exception, batched per table and handed to the enqueuer: the path every reading takes.
 */
export class Pipeline {
  readonly stamper: Stamper;
  readonly #log: Logger;
  readonly #metrics: PipelineMetrics;
  readonly #batcher: Batcher;
  readonly #enqueuer: Enqueuer;
  readonly #rejections: RejectionStore;
  readonly #events: GatewayEvents;
  readonly #sources = new Map<string, SourceEntry>();
  /** Last table per source, kept after removal so a late reading still has a home. */
  readonly #tables = new Map<string, string>();
  readonly #counts = new Map<string, Counts>();
  readonly #rateTimer: NodeJS.Timeout;
  #stopping: Promise<void> | undefined;

  constructor(o: PipelineOptions) {
    this.#log = o.log;
    this.#metrics = o.metrics;
    this.stamper = new Stamper(o.gatewayId, o.runId);
    this.#enqueuer = o.enqueuer;
    this.#batcher = new Batcher(o.batching, o.recordType, (batch) => this.#enqueuer.push(batch));
    this.#rejections = new RejectionStore(o.log, o.metrics);
    this.#events = o.events;
    this.#rateTimer = setInterval(() => this.#sampleRates(), RATE_WINDOW_MS);
    this.#rateTimer.unref();
  }

  /**
   * Sets (or replaces) a source's target table and report-by-exception rules. Replacing the
   * rules starts each tag afresh: its next reading is reported. Declared tags are kept.
   */
  configureSource(source: string, table: string, report: ReportConfig | undefined): void {
    const old = this.#sources.get(source);
    old?.filter?.stop();
    const compiled = new CompiledReport(report);
    const filter = compiled.passThrough ? undefined : new SourceFilter(compiled, (reading) => this.#heartbeat(source, reading));
    const tags = old?.tags ?? [];
    filter?.describe(tags);
    this.#sources.set(source, { table, filter, tags });
    this.#tables.set(source, table);
  }

  /** Forgets a stopped source's rules and heartbeats; its counters and seq carry on if it returns. */
  removeSource(source: string): void {
    this.#sources.get(source)?.filter?.stop();
    this.#sources.delete(source);
  }

  /** The context a configured source runs with. */
  contextFor(source: string, log: Logger): SourceContext {
    return {
      emit: (reading) => this.emit(reading),
      reject: (rejection) => this.#rejections.record(source, rejection),
      describe: (tags) => this.#describe(source, tags),
      log,
    };
  }

  emit(sourceReading: SourceReading): void {
    const source = sourceReading.source;
    const counts = this.#countsOf(source);
    counts.readings += 1;
    this.#metrics.recordsRead.inc({ source });
    const entry = this.#sources.get(source);
    const reported = !entry?.filter || isReported(entry.filter.offer(sourceReading));
    const reading = reported ? this.stamper.stamp(sourceReading) : this.stamper.stampUnwritten(sourceReading);
    if (this.#events.listenerCount('reading') > 0) this.#announce(() => this.#events.emit('reading', reading));
    if (!reported) {
      counts.filtered += 1;
      this.#metrics.recordsFiltered.inc({ source });
      return;
    }
    this.#batch(source, reading, sourceReading);
  }

  setBatchLimits(limits: BatchLimits): void {
    this.#batcher.setLimits(limits);
  }

  sourceCounts(source: string): SourceCounts {
    const c = this.#countsOf(source);
    return {
      readings: c.readings,
      readingsPerSecond: c.perSecond,
      filtered: c.filtered,
      heartbeats: c.heartbeats,
      lastSeq: this.stamper.lastSeq(source),
      rejected: this.#rejections.count(source),
      recentRejections: this.#rejections.recent(source),
    };
  }

  /** The table a source's readings (and dead letters) go to; kept after the source is removed. */
  tableOf(source: string): string | undefined {
    return this.#tables.get(source);
  }

  /** Rejections are counted and kept here; the dead-letter forwarder subscribes to it. */
  get rejections(): RejectionStore {
    return this.#rejections;
  }

  enqueueStatus(): EnqueueStatus & { openRecords: number } {
    return { ...this.#enqueuer.status(), openRecords: this.#batcher.openRecords() };
  }

  /** Flushes open batches and stops the enqueuer (Redis, else the spool). Safe twice. */
  stop(timeoutMs: number): Promise<void> {
    this.#stopping ??= (async () => {
      clearInterval(this.#rateTimer);
      for (const entry of this.#sources.values()) entry.filter?.stop();
      this.#batcher.stop();
      await this.#enqueuer.stop(timeoutMs);
      this.#rejections.flush();
      this.#log.debug('Pipeline stopped.');
    })();
    return this.#stopping;
  }

  #heartbeat(source: string, sourceReading: SourceReading): void {
    this.#countsOf(source).heartbeats += 1;
    this.#metrics.recordsHeartbeat.inc({ source });
    this.#batch(source, this.stamper.stamp(sourceReading), sourceReading);
  }

  #batch(source: string, reading: Reading, sourceReading: SourceReading): void {
    const table = this.#tables.get(source);
    if (table === undefined) {
      this.#rejections.record(source, { origin: reading.tag, kind: 'unknown_source', reason: 'reading from a source that is not configured', payload: JSON.stringify(sourceReading.value) });
      return;
    }
    try {
      this.#batcher.add(table, reading);
    } catch (err) {
      this.#rejections.record(source, encodeRejection(reading.tag, sourceReading, err as Error));
    }
  }

  #describe(source: string, tags: TagInfo[]): void {
    const entry = this.#sources.get(source);
    if (entry) {
      entry.tags = tags;
      entry.filter?.describe(tags);
    }
    this.#announce(() => this.#events.emit('tags', source, tags));
  }

  /** A listener that throws must not stop the reading on its way to Redis. */
  #announce(emit: () => void): void {
    try {
      emit();
    } catch (err) {
      this.#log.warn({ err }, 'A gateway event listener failed; the reading still goes on to Redis.');
    }
  }

  #countsOf(source: string): Counts {
    let c = this.#counts.get(source);
    if (!c) {
      c = { readings: 0, filtered: 0, heartbeats: 0, windowStart: 0, perSecond: 0 };
      this.#counts.set(source, c);
    }
    return c;
  }

  #sampleRates(): void {
    for (const c of this.#counts.values()) {
      c.perSecond = Math.round(((c.readings - c.windowStart) * MS_PER_S) / RATE_WINDOW_MS);
      c.windowStart = c.readings;
    }
  }
}

function encodeRejection(origin: string, reading: SourceReading, err: Error): Rejection {
  return { origin, kind: 'encode_failed', reason: `cannot encode the reading: ${err.message}`, payload: JSON.stringify(reading.value) };
}
