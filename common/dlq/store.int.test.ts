import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deletePrefix, testRedisUrl, uniquePrefix } from '../../test/helpers/redis.ts';
import type { BatchJob } from '../batch.ts';
import type { NewDeadLetter } from './entry.ts';
import { DeadLetterNotFoundError, DeadLetterStoreFullError, NotReplayableError } from './errors.ts';
import { deadLetterKeys } from './keys.ts';
import { DeadLetterStore, batchEntryId } from './store.ts';

const REDIS_URL = testRedisUrl();
const T1 = 'main.iot.t1';
const T2 = 'main.iot.t2';

function batchEntry(jobId: string, records: string[], table = T1): NewDeadLetter {
  const recordIndexes = records.map((_, i) => i);
  return {
    kind: 'batch',
    id: batchEntryId(table, jobId, recordIndexes),
    table,
    messageType: 'iot.bronze.MqttReading',
    recordType: 'proto',
    records,
    recordIndexes,
    jobId,
    gatewayId: 'gw-1',
    disposition: 'rejected',
    error: { code: 'INVALID_ARGUMENT', message: 'offset 0 record 0: cannot decode', retryable: false },
    attempts: 1,
    firstFailureMs: 1_000,
    lastFailureMs: 1_000,
  };
}

const payloadEntry: NewDeadLetter = {
  kind: 'payload',
  table: T1,
  source: 'site1-mqtt',
  origin: 'plant/site1/line1/temp',
  reasonKind: 'invalid_json',
  reason: 'payload is not JSON',
  payload: '{not json',
  payloadTruncated: false,
  receivedAtMs: 2_000,
};

describe('DeadLetterStore (real Redis)', () => {
  const prefix = uniquePrefix('dlq');
  let redis: Redis;
  let clock = 1_700_000_000_000;
  let store: DeadLetterStore;

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
    store = new DeadLetterStore({ redis, prefix, limits: { maxEntries: 100, maxBytes: 1_000_000 }, now: () => clock++ });
  });
  afterAll(async () => {
    redis.disconnect();
    await deletePrefix(prefix, REDIS_URL);
  });

  it('stores a batch entry, reads it back whole, and lists its summary without records', async () => {
    const { id, stored } = await store.add(batchEntry('job-1', ['AAE=', 'AAI=']));
    expect(stored).toBe(true);
    expect(await store.get(id)).toMatchObject({ kind: 'batch', id, table: T1, records: ['AAE=', 'AAI='], recordIndexes: [0, 1], jobId: 'job-1' });
    const page = await store.list({ table: T1, limit: 10 });
    expect(page.entries).toEqual([expect.objectContaining({ id, kind: 'batch', recordCount: 2 })]);
    expect(page.entries[0]).not.toHaveProperty('records');
    expect(page.nextCursor).toBeUndefined();
  });

  it('treats the same records of the same job as one entry', async () => {
    const again = await store.add(batchEntry('job-1', ['AAE=', 'AAI=']));
    expect(again.stored).toBe(false);
    expect(await store.count(T1)).toBe(1);
  });

  it('keeps the same job id of two table queues apart (job ids are unique per queue only)', async () => {
    expect(batchEntryId(T1, 'job-9', [0])).not.toBe(batchEntryId(T2, 'job-9', [0]));
    expect(batchEntryId(T1, 'job-9', [0])).not.toBe(batchEntryId(T1, 'job-9', [1]));
  });

  it('keeps payload entries, which cannot be replayed', async () => {
    const { id } = await store.add(payloadEntry);
    expect(await store.get(id)).toMatchObject({ kind: 'payload', source: 'site1-mqtt', payload: '{not json' });
    await expect(store.replay(id, async () => {})).rejects.toBeInstanceOf(NotReplayableError);
    expect(await store.get(id)).toBeDefined();
    expect(await store.delete(id)).toBe(true);
    expect(await store.delete(id)).toBe(false);
  });

  it('pages through a table oldest first with a cursor, and counts per table', async () => {
    for (let i = 0; i < 5; i++) await store.add(batchEntry(`page-${i}`, ['AAE='], T2));
    const first = await store.list({ table: T2, limit: 2 });
    const second = await store.list({ table: T2, limit: 2, cursor: first.nextCursor });
    const third = await store.list({ table: T2, limit: 2, cursor: second.nextCursor });
    const jobs = [...first.entries, ...second.entries, ...third.entries].map((e) => (e.kind === 'batch' ? e.jobId : ''));
    expect(jobs).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
    expect(third.nextCursor).toBeUndefined();
    expect(await store.count(T2)).toBe(5);
    expect(await store.count()).toBe(6);
  });

  it('replays a batch entry onto the queue through the given enqueue, then removes it', async () => {
    const { id } = await store.add(batchEntry('job-replay', ['AAM=']));
    const enqueued: Array<{ job: BatchJob; jobId: string }> = [];
    const result = await store.replay(id, async (job, jobId) => void enqueued.push({ job, jobId }));
    expect(result).toEqual({ id, jobId: `dlq-replay.${id}`, table: T1, records: 1 });
    expect(enqueued).toEqual([{ jobId: `dlq-replay.${id}`, job: expect.objectContaining({ v: 1, table: T1, records: ['AAM='], gatewayId: 'gw-1' }) }]);
    expect(await store.get(id)).toBeUndefined();
    await expect(store.replay(id, async () => {})).rejects.toBeInstanceOf(DeadLetterNotFoundError);
  });

  it('keeps the entry when the enqueue fails', async () => {
    const { id } = await store.add(batchEntry('job-enqueue-fails', ['AAQ=']));
    await expect(store.replay(id, async () => Promise.reject(new Error('redis down')))).rejects.toThrow('redis down');
    expect(await store.get(id)).toBeDefined();
  });

  it('keeps entries and bytes counters that match what is stored', async () => {
    const stats = await store.stats();
    const keys = deadLetterKeys(prefix);
    const members = await redis.zcard(keys.index);
    expect(stats.entries).toBe(members);
    let bytes = 0;
    for (const member of await redis.zrangebylex(keys.index, '-', '+')) {
      const id = member.slice(16);
      bytes += (await redis.strlen(keys.entry(id))) + ((await redis.hget(keys.summaries, id)) ?? '').length;
    }
    expect(stats.bytes).toBe(bytes);
    expect(stats).toMatchObject({ replayedTotal: 1, deletedTotal: 1 });
  });

  it('refuses entries past its bound, counts the refusal and evicts nothing', async () => {
    const small = new DeadLetterStore({ redis, prefix: `${prefix}-small`, limits: { maxEntries: 2, maxBytes: 1_000_000 } });
    await small.add(batchEntry('a', ['AAE=']));
    await small.add(batchEntry('b', ['AAE=']));
    const refused = await small.add(batchEntry('c', ['AAE='])).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DeadLetterStoreFullError);
    expect((refused as Error).message).toContain('dead-letter store is full (2 of 2 entries');
    expect(await small.stats()).toMatchObject({ entries: 2, refusedTotal: 1, addedTotal: 2 });

    const tiny = new DeadLetterStore({ redis, prefix: `${prefix}-tiny`, limits: { maxEntries: 100, maxBytes: 2_000 } });
    await expect(tiny.add(batchEntry('big', ['A'.repeat(4_000)]))).rejects.toBeInstanceOf(DeadLetterStoreFullError);
    expect(await tiny.count()).toBe(0);
    await deletePrefix(`${prefix}-small`, REDIS_URL);
    await deletePrefix(`${prefix}-tiny`, REDIS_URL);
  });

  it('refuses an invalid entry with the field that is wrong', async () => {
    await expect(store.add({ ...payloadEntry, table: 'not-a-table' })).rejects.toThrow(/table/);
  });
});
