import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BatchJob } from '../../common/batch.ts';
import { captureLogger } from '../../test/helpers/logs.ts';
import { until } from '../../test/helpers/wait.ts';
import { nodeSpoolFs, type SpoolFs } from '../spool/fs.ts';
import { LOCK_FILE } from '../spool/lock.ts';
import { Spool } from '../spool/spool.ts';
import type { Batch } from './batcher.ts';
import { Enqueuer, type EnqueuerOptions } from './enqueue.ts';
import type { OverflowPolicy, QueueLimits } from './memory-queue.ts';
import { createPipelineMetrics } from './metrics.ts';
import type { BatchSink } from './redis-sink.ts';

/** A sink that fails while `down` is true, and records what it stored (once per job id and queue, as BullMQ). */
class FakeSink implements BatchSink {
  down = false;
  /** Resolves a send only when released, to model a slow Redis. */
  hold: Promise<void> | undefined;
  stored: Array<{ jobId: string; job: BatchJob }> = [];
  attempts = 0;
  closed = 0;
  async send(job: BatchJob, jobId: string): Promise<void> {
    this.attempts += 1;
    if (this.hold) await this.hold;
    if (this.down) throw new Error('connect ECONNREFUSED');
    if (!this.stored.some((s) => s.jobId === jobId && s.job.table === job.table)) this.stored.push({ jobId, job });
  }
  async close(): Promise<void> {
    this.closed += 1;
  }
  values(): string[] {
    return this.stored.flatMap((s) => s.job.records);
  }
}

/** Lets the delivery loop run: fake timers advance, and promise chains settle between them. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await vi.advanceTimersByTimeAsync(1);
}

const batch = (table: string, records: string[]): Batch => ({ table, messageType: 'm', recordType: 'json', records, bytes: records.join('').length });
const limits = (over: Partial<QueueLimits> = {}): QueueLimits => ({ maxBatches: 100, maxBytes: 1000, policy: 'drop_newest', ...over });

function setup(over: Partial<EnqueuerOptions> = {}, sink = new FakeSink()) {
  const registry = new Registry();
  const logs = captureLogger();
  const enqueuer = new Enqueuer({
    sink,
    gatewayId: 'gw',
    runId: 'run',
    log: logs.log,
    metrics: createPipelineMetrics(registry),
    queue: limits(),
    backoff: { initialMs: 100, maxMs: 1000 },
    ...over,
  });
  const metric = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values ?? [];
  const errors = () => logs.lines.map((l) => JSON.parse(l)).filter((l) => l.level === 'error');
  return { sink, enqueuer, logs, metric, errors };
}

describe('Enqueuer without a spool', () => {
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
    await settle();
    expect(sink.stored.map((s) => [s.jobId, s.job.table, s.job.records])).toEqual([
      ['gw.run.1', 'a', ['1']],
      ['gw.run.1', 'b', ['2']],
      ['gw.run.2', 'a', ['3', '4']],
    ]);
    expect(sink.stored[0]?.job).toMatchObject({ v: 1, messageType: 'm', recordType: 'json', gatewayId: 'gw', createdAtMs: expect.any(Number) });
    expect(enqueuer.status().tables).toEqual({
      a: { batchesEnqueued: 2, recordsEnqueued: 3, recordsSpooled: 0, recordsDropped: 0 },
      b: { batchesEnqueued: 1, recordsEnqueued: 1, recordsSpooled: 0, recordsDropped: 0 },
    });
    await enqueuer.stop(100);
  });

  it('keeps batches in memory while the sink fails, retries with backoff, and sends them in order once it recovers', async () => {
    const { sink, enqueuer, logs, metric } = setup();
    sink.down = true;
    enqueuer.push(batch('a', ['1']));
    enqueuer.push(batch('a', ['2']));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(sink.attempts).toBeGreaterThan(3);
    expect(enqueuer.status()).toMatchObject({ queue: { batches: 2, records: 2 }, redis: { consecutiveFailures: sink.attempts, lastError: 'connect ECONNREFUSED' } });
    expect(await metric('enqueue_errors_total')).toEqual([expect.objectContaining({ value: sink.attempts })]);
    expect(logs.lines.filter((l) => l.includes('Cannot write batches to Redis; keeping them in memory and retrying.'))).toHaveLength(1);

    sink.down = false;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sink.values()).toEqual(['1', '2']);
    expect(enqueuer.status()).toMatchObject({ queue: { batches: 0 }, redis: { consecutiveFailures: 0 } });
    expect(logs.text()).toContain('Writing batches to Redis again.');
    await enqueuer.stop(100);
  });

  it.each<[OverflowPolicy, string[][], number]>([
    ['drop_newest', [['1'], ['2']], 3],
    ['drop_oldest', [['3', '4'], ['5']], 2],
  ])('under %s at the bound drops batches, counts them as queue_full and logs at ERROR once per interval', async (policy, kept, droppedRecords) => {
    const { sink, enqueuer, metric, errors } = setup({ queue: limits({ maxBatches: 2, policy }) });
    sink.down = true;
    for (const records of [['1'], ['2'], ['3', '4'], ['5']]) enqueuer.push(batch('a', records));
    expect(await metric('records_dropped_total')).toEqual([expect.objectContaining({ labels: { table: 'a', reason: 'queue_full' }, value: droppedRecords })]);
    expect(errors()).toHaveLength(1);
    expect(errors()[0]).toMatchObject({ msg: 'Memory queue is full; dropped batches. Data was lost.', reason: 'queue_full', policy });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(errors().reduce((n, e) => n + e.records, 0)).toBe(droppedRecords);

    sink.down = false;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sink.stored.map((s) => s.job.records)).toEqual(kept);
    expect(enqueuer.status().dropped).toEqual({ queue_full: droppedRecords });
    await enqueuer.stop(100);
  });

  it('bounds the memory queue by bytes as well as by batches', async () => {
    const { sink, enqueuer } = setup({ queue: limits({ maxBatches: 100, maxBytes: 5 }) });
    sink.down = true;
    expect(enqueuer.push(batch('a', ['1234']))).toBe(true);
    expect(enqueuer.push(batch('a', ['12']))).toBe(false);
    expect(enqueuer.push(batch('a', ['1']))).toBe(true);
    const stopped = enqueuer.stop(10);
    await vi.advanceTimersByTimeAsync(100);
    await stopped;
  });

  it('under block asks the sources to pause at the high-water mark and to resume at the low one', async () => {
    const changes: boolean[] = [];
    const { sink, enqueuer, metric } = setup({ queue: limits({ maxBatches: 10, policy: 'block' }), onBlockedChange: (b) => changes.push(b) });
    sink.down = true;
    for (let i = 1; i <= 8; i++) enqueuer.push(batch('a', [String(i)]));
    expect(changes).toEqual([true]);
    expect(enqueuer.status().blocked).toBe(true);
    expect(await metric('gateway_blocked')).toEqual([expect.objectContaining({ value: 1 })]);
    // A source that cannot pause keeps sending: past the bound its batches are dropped as blocked.
    for (let i = 9; i <= 11; i++) enqueuer.push(batch('a', [String(i)]));
    expect(enqueuer.status().dropped).toEqual({ blocked: 1 });
    sink.down = false;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(changes).toEqual([true, false]);
    expect(sink.values()).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
    await enqueuer.stop(100);
  });

  it('at stop waits for queued batches to be stored, then closes the sink once', async () => {
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
    const { sink, enqueuer, metric, errors } = setup();
    sink.down = true;
    enqueuer.push(batch('a', ['1', '2']));
    const stopped = enqueuer.stop(3_000);
    await vi.advanceTimersByTimeAsync(3_500);
    await stopped;
    expect(await metric('records_dropped_total')).toEqual([expect.objectContaining({ labels: { table: 'a', reason: 'shutdown' }, value: 2 })]);
    expect(errors()[0]).toMatchObject({ batches: 1, records: 2, msg: 'Lost batches that were neither written to Redis nor spooled before shutdown.' });
    expect(enqueuer.status().queue.batches).toBe(0);
    expect(enqueuer.push(batch('a', ['3']))).toBe(false);
  });
});

describe('Enqueuer with a spool', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'enqueue-spool-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function withSpool(over: Partial<EnqueuerOptions> = {}, sink = new FakeSink(), maxBytes = 1024 * 1024, spoolOver: { policy?: OverflowPolicy; fs?: SpoolFs } = {}) {
    const ctx = setup({ ...over }, sink);
    await ctx.enqueuer.stop(0);
    const logs = captureLogger();
    const registry = new Registry();
    const metrics = createPipelineMetrics(registry);
    let enqueuer: Enqueuer | undefined;
    const spool = await Spool.open({
      dir,
      maxBytes,
      segmentBytes: 64 * 1024,
      policy: spoolOver.policy ?? 'drop_oldest',
      log: logs.log,
      onDrop: (table, records, reason) => enqueuer?.countDrop(table, records, reason),
      ...(spoolOver.fs ? { fs: spoolOver.fs } : {}),
    });
    enqueuer = new Enqueuer({ sink, gatewayId: 'gw', runId: 'run', log: logs.log, metrics, queue: limits(), backoff: { initialMs: 20, maxMs: 100 }, spool, ...over });
    const metric = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values ?? [];
    return { sink, enqueuer, spool, logs, metric };
  }

  it('spools batches while Redis fails and delivers the spool in order before newer batches', async () => {
    const { sink, enqueuer, logs, metric } = await withSpool();
    sink.down = true;
    for (let i = 1; i <= 20; i++) enqueuer.push(batch('a', [String(i)]));
    await until('everything spooled', () => enqueuer.status().spool?.batches === 20 && enqueuer.status().queue.batches === 0);
    expect(enqueuer.status().spooling).toBe(true);
    expect(logs.text()).toContain('Cannot write batches to Redis; spooling them to disk and retrying.');
    expect(await metric('records_spooled_total')).toEqual([expect.objectContaining({ labels: { table: 'a' }, value: 20 })]);
    sink.down = false;
    // New data while the spool drains goes behind it.
    for (let i = 21; i <= 30; i++) enqueuer.push(batch('a', [String(i)]));
    await until('all 30 delivered', () => sink.stored.length === 30);
    expect(sink.values()).toEqual(Array.from({ length: 30 }, (_, i) => String(i + 1)));
    await until('back to the direct path', () => !enqueuer.status().spooling);
    enqueuer.push(batch('a', ['31']));
    await until('31 delivered', () => sink.stored.length === 31);
    expect(enqueuer.status().tables.a).toMatchObject({ recordsEnqueued: 31, recordsDropped: 0 });
    await enqueuer.stop(1000);
  });

  it('at stop with Redis down spools what is in memory, and the next run delivers it with the same job ids', async () => {
    const sink = new FakeSink();
    sink.down = true;
    const first = await withSpool({}, sink);
    for (let i = 1; i <= 5; i++) first.enqueuer.push(batch('a', [String(i)]));
    await until('a failed write', () => sink.attempts > 0);
    await first.enqueuer.stop(60_000);
    expect(first.enqueuer.status().dropped).toEqual({});
    sink.down = false;
    const second = await withSpool({}, sink);
    await until('delivered', () => sink.stored.length === 5);
    expect(sink.stored.map((s) => s.jobId)).toEqual(['gw.run.1', 'gw.run.2', 'gw.run.3', 'gw.run.4', 'gw.run.5']);
    await second.enqueuer.stop(1000);
  });

  it('spills to the spool when Redis is up but slow and memory fills past half its bound', async () => {
    const sink = new FakeSink();
    sink.hold = new Promise((r) => setTimeout(r, 50));
    const { enqueuer, metric } = await withSpool({ queue: limits({ maxBatches: 10 }) }, sink);
    for (let i = 1; i <= 9; i++) enqueuer.push(batch('a', [String(i)]));
    await until('all delivered', () => sink.stored.length === 9);
    expect(sink.values()).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect((await metric('records_spooled_total'))[0]?.value).toBeGreaterThan(0);
    await enqueuer.stop(1000);
  });

  it('counts what the spool evicts under drop_oldest in the same drop totals', async () => {
    const sink = new FakeSink();
    sink.down = true;
    const { enqueuer, metric } = await withSpool({ queue: limits({ maxBytes: 1 << 20 }) }, sink, 8 * 1024);
    const record = 'x'.repeat(200);
    for (let i = 0; i < 100; i++) enqueuer.push(batch('a', [record]));
    await until('spool settled', () => (enqueuer.status().spool?.batches ?? 0) + (enqueuer.status().dropped.spool_full ?? 0) === 100);
    sink.down = false;
    await until('spool drained', () => enqueuer.status().spool?.batches === 0);
    const dropped = enqueuer.status().dropped.spool_full ?? 0;
    expect(dropped).toBeGreaterThan(0);
    expect(sink.stored.length + dropped).toBe(100);
    expect(await metric('records_dropped_total')).toEqual([expect.objectContaining({ labels: { table: 'a', reason: 'spool_full' }, value: dropped })]);
    await enqueuer.stop(1000);
  });

  it('on a full disk counts what the spool cannot take as disk_full, shows it, and spools again once there is room', async () => {
    let full = true;
    const fs: SpoolFs = {
      async open(path, mode) {
        const file = await nodeSpoolFs.open(path, mode);
        return {
          ...file,
          async write(buffer, position) {
            if (full) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
            await file.write(buffer, position);
          },
        };
      },
    };
    const sink = new FakeSink();
    sink.down = true;
    const { enqueuer, metric } = await withSpool({}, sink, 1024 * 1024, { policy: 'drop_newest', fs });
    for (let i = 1; i <= 3; i++) enqueuer.push(batch('a', [String(i)]));
    await until('all three dropped', () => enqueuer.status().dropped.disk_full === 3);
    expect(enqueuer.status().spool).toMatchObject({ diskFull: true, accepting: false, lastError: expect.stringContaining('ENOSPC') });
    expect(await metric('records_dropped_total')).toEqual([expect.objectContaining({ labels: { table: 'a', reason: 'disk_full' }, value: 3 })]);
    full = false;
    enqueuer.push(batch('a', ['4']));
    await until('4 spooled', () => enqueuer.status().spool?.batches === 1);
    expect(enqueuer.status().spool).toMatchObject({ diskFull: false, accepting: true });
    sink.down = false;
    await until('4 delivered', () => sink.stored.length === 1);
    expect(sink.values()).toEqual(['4']);
    await enqueuer.stop(1000);
  });

  it('refuses to share a spool directory with a live process', async () => {
    await writeFile(join(dir, LOCK_FILE), `${process.pid}\n`);
    await expect(Spool.open({ dir, maxBytes: 1 << 20, segmentBytes: 1 << 16, policy: 'block', log: captureLogger().log, onDrop: () => {} })).rejects.toThrow(/in use by process/);
  });
});
