import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchDeadLetter } from '../../common/dlq/entry.ts';
import { DeadLetterStore } from '../../common/dlq/store.ts';
import { faultsSchema } from '../../sim/zerobus/faults.ts';
import { startTestEmulator, type TestEmulator } from '../../test/helpers/emulator.ts';
import { captureLogger } from '../../test/helpers/logs.ts';
import { deletePrefix, testRedisUrl, uniquePrefix } from '../../test/helpers/redis.ts';
import { until } from '../../test/helpers/wait.ts';
import { startRelay, type RunningRelay } from '../app.ts';
import { TEST_API_TOKEN, relayConfig, relayYaml } from '../test-support/config.ts';
import { TestQueue, encodedRecords } from '../test-support/jobs.ts';

/**
 * Poison batches. How the test makes records "bad" and then "fixes the schema", honestly:
 * the emulator's reject_values fault stands for a table constraint (like a Delta CHECK
 * constraint) that refuses rows whose `tag` column holds a value. Zerobus refuses the request
 * holding such a record with INVALID_ARGUMENT naming the record, and lands none of it, exactly
 * as it does for an undecodable record. Fixing the table (dropping the constraint) is clearing
 * the fault; the dead-lettered records are replayed unchanged and land.
 */
const BAD_TAG = 'line1/out-of-range';
const BATCH = 500;
const BAD_SEQS = [17, 250, 499];

describe('poison batches', () => {
  const prefix = uniquePrefix('poison');
  const redisUrl = testRedisUrl();
  let emulator: TestEmulator;
  let relay: RunningRelay;
  let redis: Redis;
  let dlq: DeadLetterStore;
  const queues: TestQueue[] = [];

  beforeAll(async () => {
    emulator = await startTestEmulator();
    redis = new Redis(redisUrl);
    dlq = new DeadLetterStore({ redis, prefix, limits: { maxEntries: 1_000, maxBytes: 100_000_000 } });
    relay = await startRelay(relayConfig(relayYaml({ emulator, redisUrl, prefix, id: 'relay-poison' })), { log: captureLogger().log });
  });
  afterAll(async () => {
    await relay?.stop();
    await Promise.all(queues.map((q) => q.close()));
    redis.disconnect();
    await emulator?.stop();
    await deletePrefix(prefix, redisUrl);
  });

  const queueFor = (table: string) => {
    const q = new TestQueue({ url: redisUrl, prefix, table });
    queues.push(q);
    return q;
  };
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`http://127.0.0.1:${relay.httpPort}${path}`, { ...init, headers: { authorization: `Bearer ${TEST_API_TOKEN}`, ...init.headers } });
  const completed = (q: TestQueue, n: number) => until(`${n} completed jobs`, async () => ((await q.counts()).completed ?? 0) >= n || undefined, 30_000);

  it('lands 497 of 500 records, dead-letters the 3 bad ones with the reason, and a replay after the fix lands them', async () => {
    const table = 'main.iot.poison_constraint';
    emulator.faults.replace(faultsSchema.parse({ reject_values: [{ table, column: 'tag', value: BAD_TAG }] }));
    const queue = queueFor(table);
    const [jobId] = await queue.addBatches(1, BATCH, { edit: (r, seq) => (BAD_SEQS.includes(seq) ? { ...r, tag: BAD_TAG } : r) });
    await completed(queue, 1);

    expect((await queue.queue.getJob(jobId ?? ''))?.returnvalue).toEqual({ records: 500, landed: 497, deadLettered: 3 });
    expect(await emulator.duplicates(table)).toMatchObject({ rows: 497, distinct: 497, duplicates: 0 });
    const rows = await emulator.rows(table, 1_000);
    expect(rows.some((r) => r.tag === BAD_TAG)).toBe(false);

    const page = await dlq.list({ table, limit: 10 });
    expect(page.entries).toHaveLength(3);
    const entries = (await Promise.all(page.entries.map((e) => dlq.get(e.id)))) as BatchDeadLetter[];
    expect(entries.map((e) => e.recordIndexes[0]).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(BAD_SEQS.map((s) => s - 1));
    for (const e of entries) {
      expect(e).toMatchObject({ kind: 'batch', jobId, disposition: 'rejected', records: [expect.any(String)], error: { code: 'INVALID_ARGUMENT', retryable: false } });
      expect(e.error.message).toContain(`column tag = "${BAD_TAG}" violates a constraint of ${table}`);
    }
    const view = (await (await api(`/dlq/${entries[0]?.id}`)).json()) as { decoded: Array<{ row: { tag: string } }> };
    expect(view.decoded[0]?.row.tag).toBe(BAD_TAG);

    // The table is fixed: the constraint is dropped. Replaying the dead letters lands them.
    emulator.faults.replace(faultsSchema.parse({}));
    const replay = await api(`/dlq/replay?table=${table}`, { method: 'POST' });
    expect(await replay.json()).toMatchObject({ table, replayed: 3, records: 3, remaining: 0 });
    await until('the replayed records to land', async () => (await emulator.count(table)) === BATCH || undefined, 20_000);
    expect(await emulator.duplicates(table)).toMatchObject({ rows: BATCH, distinct: BATCH, duplicates: 0 });
    expect(await dlq.count(table)).toBe(0);
  });

  it('keeps an undecodable record dead-lettered when it is replayed unfixed, and loses nothing', async () => {
    const table = 'main.iot.poison_bytes';
    const queue = queueFor(table);
    const records = encodedRecords(1, 10);
    // Field 1 as a length-delimited value running past the end: no descriptor decodes it.
    records[6] = Buffer.from([0x0a, 0x7f, 0x01]).toString('base64');
    await queue.addRecords(records, 'with-broken-record');
    await completed(queue, 1);

    const [entry] = (await dlq.list({ table, limit: 10 })).entries;
    expect(entry).toMatchObject({ disposition: 'rejected', recordCount: 1, error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('cannot decode as MqttReading') } });
    expect(await emulator.count(table)).toBe(9);

    const replay = await api(`/dlq/${entry?.id}/replay`, { method: 'POST' });
    expect(replay.status).toBe(202);
    await until('the replayed record to be dead-lettered again', async () =>
      (await dlq.list({ table, limit: 10 })).entries.find((e) => e.kind === 'batch' && e.jobId.startsWith('dlq-replay.')),
    );
    expect(await dlq.count(table)).toBe(1);
    expect(await emulator.count(table)).toBe(9);
  });

  it('lands the innocent batches that shared a stream with a poison batch; only the bad records are dead-lettered', async () => {
    const table = 'main.iot.poison_shared';
    emulator.faults.replace(faultsSchema.parse({ reject_values: [{ table, column: 'tag', value: BAD_TAG }], ack_delay_ms: 30 }));
    const queue = queueFor(table);
    await queue.addBatches(12, 100, { edit: (r, seq) => (seq === 555 ? { ...r, tag: BAD_TAG } : r) });
    await completed(queue, 12);
    emulator.faults.replace(faultsSchema.parse({}));
    const report = await emulator.duplicates(table);
    expect(report.distinct).toBe(1_199);
    // Batches written just before the refusal, but never acked, were sent again: at most the others in flight.
    expect(report.duplicates).toBeLessThanOrEqual(3 * 100);
    const entries = (await dlq.list({ table, limit: 10 })).entries;
    expect(entries).toEqual([expect.objectContaining({ recordCount: 1, disposition: 'rejected' })]);
  });
});
