import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BatchJob } from '../../common/batch.ts';
import { captureLogger } from '../../test/helpers/logs.ts';
import type { Batch } from './batcher.ts';
import { Enqueuer } from './enqueue.ts';
import { createPipelineMetrics } from './metrics.ts';
import type { BatchSink } from './redis-sink.ts';

/** A sink that fails while `down` is true, and records what it stored. */
class FakeSink implements BatchSink {
  down = false;
  stored: Array<{ jobId: string; job: BatchJob }> = [];
  attempts = 0;
  closed = 0;
  async send(job: BatchJob, jobId: string): Promise<void> {
    this.attempts += 1;
    if (this.down) throw new Error('connect ECONNREFUSED');
    this.stored.push({ jobId, job });
  }
  async close(): Promise<void> {
    this.closed += 1;
  }
}

const batch = (table: string, records: string[]): Batch => ({ table, messageType: 'm', recordType: 'json', records, bytes: records.join('').length });

function setup(limits = { maxBatches: 100, maxBytes: 1000 }) {
  const sink = new FakeSink();
  const registry = new Registry();
  const logs = captureLogger();
  const enqueuer = new Enqueuer({
    sink,
    gatewayId: 'gw',
    runId: 'run',
    log: logs.log,
    metrics: createPipelineMetrics(registry),
    limits,
    backoff: { initialMs: 100, maxMs: 1000 },
  });
  const metric = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values ?? [];
  return { sink, enqueuer, logs, metric };
}

describe('Enqueuer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('stores batches in order with a job id per table counter and the batch job fields', async () => {
    const { sink, enqueuer } = setup();
    enqueuer.push(batch('a', ['1']));
    enqueuer.push(batch('b', ['2']));
    enqueuer.push(batch('a', ['3', '4']));
    await vi.runAllTimersAsync();
    expect(sink.stored.map((s) => [s.jobId, s.job.table, s.job.records])).toEqual([
      ['gw.run.1', 'a', ['1']],
      ['gw.run.1', 'b', ['2']],
      ['gw.run.2', 'a', ['3', '4']],
    ]);
    expect(sink.stored[0]?.job).toMatchObject({ v: 1, messageType: 'm', recordType: 'json', gatewayId: 'gw', createdAtMs: expect.any(Number) });
    expect(enqueuer.status().tables).toEqual({
      a: { batchesEnqueued: 2, recordsEnqueued: 3, recordsDropped: 0 },
      b: { batchesEnqueued: 1, recordsEnqueued: 1, recordsDropped: 0 },
    });
  });

  it('keeps batches while the sink fails, retries with backoff, and sends them in order once it recovers', async () => {
    const { sink, enqueuer, logs, metric } = setup();
    sink.down = true;
    enqueuer.push(batch('a', ['1']));
    enqueuer.push(batch('a', ['2']));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(sink.attempts).toBeGreaterThan(3);
    expect(enqueuer.status()).toMatchObject({ pendingBatches: 2, pendingRecords: 2, consecutiveFailures: sink.attempts, lastError: 'connect ECONNREFUSED' });
    expect(await metric('enqueue_errors_total')).toEqual([expect.objectContaining({ value: sink.attempts })]);
    expect(logs.lines.filter((l) => l.includes('Cannot write batches to Redis'))).toHaveLength(1);

    sink.down = false;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sink.stored.map((s) => s.job.records[0])).toEqual(['1', '2']);
    expect(enqueuer.status()).toMatchObject({ pendingBatches: 0, consecutiveFailures: 0 });
    expect(logs.text()).toContain('Writing batches to Redis again.');
  });

  it('drops the newest batch when the pending list is full, counts it and logs at ERROR once per interval', async () => {
    const { sink, enqueuer, logs, metric } = setup({ maxBatches: 2, maxBytes: 1000 });
    sink.down = true;
    expect(enqueuer.push(batch('a', ['1']))).toBe(true);
    expect(enqueuer.push(batch('a', ['2']))).toBe(true);
    expect(enqueuer.push(batch('a', ['3', '4']))).toBe(false);
    expect(enqueuer.push(batch('a', ['5']))).toBe(false);
    expect(await metric('records_dropped_total')).toEqual([expect.objectContaining({ labels: { table: 'a', reason: 'overflow' }, value: 3 })]);
    const errors = () => logs.lines.map((l) => JSON.parse(l)).filter((l) => l.level === 'error');
    expect(errors()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(errors().map((e) => e.batches)).toEqual([1, 1]);

    sink.down = false;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sink.stored.map((s) => s.job.records)).toEqual([['1'], ['2']]);
    expect(enqueuer.status().tables.a).toEqual({ batchesEnqueued: 2, recordsEnqueued: 2, recordsDropped: 3 });
  });

  it('bounds the pending list by bytes as well as by batches', () => {
    const { sink, enqueuer } = setup({ maxBatches: 100, maxBytes: 5 });
    sink.down = true;
    expect(enqueuer.push(batch('a', ['1234']))).toBe(true);
    expect(enqueuer.push(batch('a', ['12']))).toBe(false);
    expect(enqueuer.push(batch('a', ['1']))).toBe(true);
  });

  it('at stop waits for pending batches to be stored, then closes the sink once', async () => {
    const { sink, enqueuer } = setup();
    sink.down = true;
    enqueuer.push(batch('a', ['1']));
    await vi.advanceTimersByTimeAsync(2_000);
    const stopped = enqueuer.stop(10_000);
    sink.down = false;
    await vi.advanceTimersByTimeAsync(1_000);
    await stopped;
    await enqueuer.stop(10_000);
    expect(sink.stored).toHaveLength(1);
    expect(sink.closed).toBe(1);
  });

  it('at stop counts what Redis did not take within the timeout as lost, at ERROR', async () => {
    const { sink, enqueuer, logs, metric } = setup();
    sink.down = true;
    enqueuer.push(batch('a', ['1', '2']));
    const stopped = enqueuer.stop(3_000);
    await vi.advanceTimersByTimeAsync(3_000);
    await stopped;
    expect(await metric('records_dropped_total')).toEqual([expect.objectContaining({ labels: { table: 'a', reason: 'shutdown' }, value: 2 })]);
    const error = logs.lines.map((l) => JSON.parse(l)).find((l) => l.level === 'error');
    expect(error).toMatchObject({ batches: 1, records: 2, msg: 'Lost batches that were not written to Redis before shutdown.' });
    expect(enqueuer.status().pendingBatches).toBe(0);
    expect(enqueuer.push(batch('a', ['3']))).toBe(false);
  });
});
