import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DeadLetterStore } from '../common/dlq/store.ts';
import { faultsSchema, type FaultSettings } from '../sim/zerobus/faults.ts';
import { startTestEmulator, type TestEmulator } from '../test/helpers/emulator.ts';
import { captureLogger } from '../test/helpers/logs.ts';
import { deletePrefix, testRedisUrl, uniquePrefix } from '../test/helpers/redis.ts';
import { until } from '../test/helpers/wait.ts';
import { startRelay, type RunningRelay } from './app.ts';
import { TEST_API_TOKEN, relayConfig, relayYaml } from './test-support/config.ts';
import { TestQueue } from './test-support/jobs.ts';

const BATCH = 100;

describe('relay workers against the emulator (in process)', () => {
  const prefix = uniquePrefix('relay');
  const redisUrl = testRedisUrl();
  let emulator: TestEmulator;
  let redis: Redis;
  let dlq: DeadLetterStore;
  const running: RunningRelay[] = [];
  const queues: TestQueue[] = [];
  let n = 0;

  beforeAll(async () => {
    emulator = await startTestEmulator();
    redis = new Redis(redisUrl);
    dlq = new DeadLetterStore({ redis, prefix, limits: { maxEntries: 1_000, maxBytes: 100_000_000 } });
  });
  afterEach(async () => {
    emulator.faults.replace(faultsSchema.parse({}));
    await Promise.all(running.splice(0).map((r) => r.stop()));
  });
  afterAll(async () => {
    await Promise.all(queues.map((q) => q.close()));
    redis.disconnect();
    await emulator?.stop();
    await deletePrefix(prefix, redisUrl);
  });

  const inject = (settings: Partial<FaultSettings>) => emulator.faults.replace(faultsSchema.parse(settings));

  async function setup(sections: Record<string, string> = {}) {
    const table = `main.iot.relay_${++n}`;
    const queue = new TestQueue({ url: redisUrl, prefix, table });
    queues.push(queue);
    const logs = captureLogger();
    const config = relayConfig(relayYaml({ emulator, redisUrl, prefix, id: `relay-${n}`, sections: { ...sections } }));
    const relay = await startRelay(config, { log: logs.log });
    running.push(relay);
    const completed = (count: number) => until(`${count} completed jobs`, async () => ((await queue.counts()).completed ?? 0) >= count || undefined, 30_000);
    return { table, queue, relay, logs, completed };
  }

  it('lands every batch, completes its job, and reports it in /status and /metrics', async () => {
    const { table, queue, relay, completed } = await setup();
    await queue.addBatches(10, BATCH);
    await completed(10);
    expect(await emulator.duplicates(table)).toMatchObject({ rows: 1000, distinct: 1000, duplicates: 0 });
    const status = await relay.status();
    const t = status.tables.find((x) => x.table === table);
    expect(t).toMatchObject({ queue: { waiting: 0, active: 0, delayed: 0, failed: 0, deadLettered: 0 }, circuit: { state: 'closed' }, stream: { state: 'open' } });
    expect(t?.recordsPerS).toBeGreaterThan(0);
    expect(t?.ackLatencyMs.p50).not.toBeNull();
    expect(status.workers.find((w) => w.table === table)).toMatchObject({ jobsCompleted: 10, recordsWritten: 1000, recordsDeadLettered: 0, running: true });
    const metrics = await (await fetch(`http://127.0.0.1:${relay.httpPort}/metrics`)).text();
    for (const line of [
      `records_written_total{table="${table}"} 1000`,
      `queue_depth{table="${table}",state="waiting"} 0`,
      `circuit_breaker_state{table="${table}"} 0`,
      `batch_latency_seconds_count{table="${table}"} 10`,
    ]) {
      expect(metrics).toContain(line);
    }
    for (const name of ['records_failed_total', 'records_dead_lettered_total', 'zerobus_stream_recoveries_total']) expect(metrics).toContain(`# TYPE ${name} counter`);
  });

  it('dead-letters a batch refused for good at once, without retries', async () => {
    const { table, queue, relay, completed } = await setup();
    inject({ reject_schema_tables: [table] });
    const [jobId] = await queue.addBatches(1, BATCH);
    await completed(1);
    const page = await dlq.list({ table, limit: 10 });
    expect(page.entries).toEqual([
      expect.objectContaining({
        kind: 'batch',
        jobId,
        recordCount: BATCH,
        disposition: 'rejected',
        attempts: 1,
        error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('schema mismatch'), retryable: false },
      }),
    ]);
    const status = await relay.status();
    expect(status.workers.find((w) => w.table === table)).toMatchObject({ jobsRetried: 0, recordsDeadLettered: BATCH });
    expect(status.tables.find((t) => t.table === table)?.lastError).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await emulator.count(table)).toBe(0);
  });

  it('dead-letters a batch whose tries all failed with a temporary error, saying it was not refused; a replay lands it', async () => {
    const { table, queue, relay, completed } = await setup({ workers: '{ concurrency: 2, discovery_interval_ms: 200, attempts: 2, backoff_initial_ms: 50, backoff_max_ms: 100 }' });
    inject({ fail_calls: { count: 1_000, code: 'UNAVAILABLE', message: 'injected outage' } });
    await queue.addBatches(1, BATCH);
    await completed(1);
    const [entry] = (await dlq.list({ table, limit: 10 })).entries;
    expect(entry).toMatchObject({ disposition: 'retries_exhausted', attempts: 2, error: { code: 'UNAVAILABLE', retryable: true } });
    expect(entry && entry.kind === 'batch' && entry.lastFailureMs >= entry.firstFailureMs).toBe(true);

    inject({});
    const res = await fetch(`http://127.0.0.1:${relay.httpPort}/dlq/${entry?.id}/replay`, { method: 'POST', headers: { authorization: `Bearer ${TEST_API_TOKEN}` } });
    expect(res.status).toBe(202);
    await until('the replayed batch to land', async () => (await emulator.count(table)) === BATCH || undefined, 20_000);
    expect(await dlq.count(table)).toBe(0);
  });

  it('opens the circuit after consecutive failures, keeps batches delayed in the queue (none failed or dead-lettered), and closes once a probe lands', async () => {
    const { table, queue, relay, completed } = await setup({
      workers: '{ concurrency: 2, discovery_interval_ms: 200, attempts: 50, backoff_initial_ms: 100, backoff_max_ms: 300 }',
      circuit: '{ failure_threshold: 2, cooldown_ms: 1500, probe_wait_ms: 200 }',
    });
    inject({ fail_calls: { count: 1_000, code: 'UNAVAILABLE', message: 'injected outage' } });
    await queue.addBatches(6, BATCH);
    await until('the circuit to open', async () => (await relay.status()).tables.find((t) => t.table === table)?.circuit.state === 'open' || undefined, 20_000);
    await until('batches delayed by the open circuit', async () => ((await relay.status()).workers.find((w) => w.table === table)?.jobsDelayedByCircuit ?? 0) > 0 || undefined, 20_000);
    const counts = await queue.counts();
    expect(counts.failed ?? 0).toBe(0);
    inject({});
    await completed(6);
    const status = await relay.status();
    expect(status.tables.find((t) => t.table === table)?.circuit).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
    expect(await emulator.duplicates(table)).toMatchObject({ distinct: 600, duplicates: 0 });
    expect(await dlq.count(table)).toBe(0);
  });

  it('keeps a batch in the failed set, whole, when the dead-letter store is full, and says so', async () => {
    const { table, queue, relay } = await setup({ dlq: '{ max_entries: 1 }' });
    await dlq.add({ kind: 'payload', table, source: 's', origin: 'o', reasonKind: 'invalid_json', reason: 'r', payload: 'p', payloadTruncated: false, receivedAtMs: 0 });
    inject({ reject_schema_tables: [table] });
    const [jobId] = await queue.addBatches(1, BATCH);
    await until('the job to fail', async () => ((await queue.counts()).failed ?? 0) === 1 || undefined, 20_000);
    const job = await queue.queue.getJob(jobId ?? '');
    expect(job?.failedReason).toContain('dead-letter store is full');
    expect(job?.data.records).toHaveLength(BATCH);
    const status = await relay.status();
    expect(status.deadLetters?.refusedTotal).toBeGreaterThanOrEqual(1);
    expect(status.tables.find((t) => t.table === table)?.queue?.failed).toBe(1);
    const metrics = await (await fetch(`http://127.0.0.1:${relay.httpPort}/metrics`)).text();
    expect(metrics).toContain(`records_dead_letter_refused_total{table="${table}"} ${BATCH}`);
  });

  it('on stop, returns batches still in progress after the drain to the queue and ends within its bound', async () => {
    const { table, queue, relay } = await setup({ shutdown: '{ drain_ms: 300, timeout_ms: 4000 }' });
    inject({ ack_delay_ms: 3_000 });
    await queue.addBatches(4, BATCH);
    await until('batches in progress', async () => (await relay.status()).workers.find((w) => w.table === table)?.active === 4 || undefined);
    const t0 = Date.now();
    await relay.stop();
    expect(Date.now() - t0).toBeLessThan(4_000);
    const counts = await queue.counts();
    expect(counts.active ?? 0).toBe(0);
    expect((counts.wait ?? 0) + (counts.completed ?? 0)).toBe(4);

    // Another relay takes them over; the ones whose rows landed before the stop land twice at most.
    inject({});
    const next = await startRelay(relayConfig(relayYaml({ emulator, redisUrl, prefix, id: 'relay-next' })), { log: captureLogger().log });
    running.push(next);
    await until('every returned batch to complete', async () => ((await queue.counts()).completed ?? 0) === 4 || undefined, 20_000);
    const report = await emulator.duplicates(table);
    expect(report.distinct).toBe(400);
    expect(report.duplicates).toBeLessThanOrEqual(400);
  });
});
