import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { BATCH_JOB_NAME, queueNameFor, tableRegistryKey, type BatchJob } from '../../common/batch.ts';
import { captureLogger } from '../../test/helpers/logs.ts';
import { freePort } from '../../test/helpers/ports.ts';
import { deletePrefix, testRedisUrl, uniquePrefix } from '../../test/helpers/redis.ts';
import { startRedisServer } from '../../test/helpers/redis-server.ts';
import { until } from '../../test/helpers/wait.ts';
import { Enqueuer } from './enqueue.ts';
import { createPipelineMetrics } from './metrics.ts';
import { KEEP_COMPLETED_JOBS, RedisBatchSink, RedisUnavailableError } from './redis-sink.ts';

const TABLE = 'main.iot.sink_test';
const job = (records: string[]): BatchJob => ({ v: 1, table: TABLE, messageType: 'iot.bronze.MqttReading', recordType: 'json', records, gatewayId: 'gw', createdAtMs: 1 });

describe('RedisBatchSink against Redis', () => {
  const prefixes: string[] = [];
  afterAll(async () => {
    for (const p of prefixes) await deletePrefix(p, testRedisUrl());
  });

  it('stores a batch job in the table queue with its job id and registers the table', async () => {
    const prefix = uniquePrefix('sink');
    prefixes.push(prefix);
    const sink = new RedisBatchSink({ url: testRedisUrl(), prefix, log: captureLogger().log });
    await sink.send(job(['a', 'b']), 'gw.run.1');
    await sink.send(job(['a', 'b']), 'gw.run.1');
    await sink.send(job(['c']), 'gw.run.2');
    await sink.close();
    await sink.close();

    const queue = new Queue(queueNameFor(TABLE), { connection: { url: testRedisUrl() }, prefix });
    const redis = new Redis(testRedisUrl());
    try {
      const jobs = (await queue.getJobs(['waiting'])).sort((x, y) => String(x.id).localeCompare(String(y.id)));
      expect(jobs.map((j) => [j.id, j.name, j.data.records])).toEqual([
        ['gw.run.1', BATCH_JOB_NAME, ['a', 'b']],
        ['gw.run.2', BATCH_JOB_NAME, ['c']],
      ]);
      expect(jobs[0]?.opts).toMatchObject({ removeOnComplete: { count: KEEP_COMPLETED_JOBS }, removeOnFail: false });
      expect(await redis.smembers(tableRegistryKey(prefix))).toEqual([TABLE]);
    } finally {
      await queue.close();
      redis.disconnect();
    }
  });

  it('fails a write within the attempt timeout when Redis is unreachable', async () => {
    const port = await freePort();
    const sink = new RedisBatchSink({ url: `redis://127.0.0.1:${port}`, prefix: 'unused', log: captureLogger().log, attemptTimeoutMs: 300 });
    await expect(sink.send(job(['a']), 'gw.run.1')).rejects.toBeInstanceOf(RedisUnavailableError);
    await sink.close();
  });

  it('keeps batches through a Redis outage and delivers every one, in order, once it is back', async () => {
    const port = await freePort();
    let server = await startRedisServer(port);
    const prefix = uniquePrefix('outage');
    const logs = captureLogger();
    const registry = new Registry();
    const sink = new RedisBatchSink({ url: server.url, prefix, log: logs.log, attemptTimeoutMs: 300 });
    const enqueuer = new Enqueuer({ sink, gatewayId: 'gw', runId: 'run', log: logs.log, metrics: createPipelineMetrics(registry), backoff: { initialMs: 50, maxMs: 200 } });
    const batch = (n: number) => ({ table: TABLE, messageType: 'm', recordType: 'json' as const, records: [String(n)], bytes: 1 });

    enqueuer.push(batch(1));
    await until('the first batch stored', () => enqueuer.status().tables[TABLE]?.batchesEnqueued === 1);
    await server.stop();
    for (let n = 2; n <= 6; n++) enqueuer.push(batch(n));
    await until('failed writes', () => enqueuer.status().redis.consecutiveFailures >= 2);
    expect(enqueuer.status().queue.batches).toBe(5);

    server = await startRedisServer(port);
    await until('every batch stored', () => enqueuer.status().queue.batches === 0, 20_000);
    // The restarted server is empty: batch 1 went with the old one. 2..6 must all be there, in order.
    const queue = new Queue(queueNameFor(TABLE), { connection: { url: server.url }, prefix });
    try {
      const jobs = await queue.getJobs(['waiting'], 0, -1, true);
      expect(jobs.map((j) => [j.id, j.data.records[0]])).toEqual([2, 3, 4, 5, 6].map((n) => [`gw.run.${n}`, String(n)]));
    } finally {
      await queue.close();
      await enqueuer.stop(1_000);
      await server.stop();
    }
    expect(logs.text()).toContain('Writing batches to Redis again.');
    expect((await registry.getSingleMetric('records_dropped_total')?.get())?.values).toEqual([]);
  });
});
