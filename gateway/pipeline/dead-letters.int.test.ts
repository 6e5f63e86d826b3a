import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { DeadLetterStore } from '../../common/dlq/store.ts';
import { captureLogger } from '../../test/helpers/logs.ts';
import { freePort } from '../../test/helpers/ports.ts';
import { deletePrefix, testRedisUrl, uniquePrefix } from '../../test/helpers/redis.ts';
import { startRedisServer } from '../../test/helpers/redis-server.ts';
import { until } from '../../test/helpers/wait.ts';
import { connectDeadLetterRedis } from './dead-letter-redis.ts';
import { DeadLetterForwarder } from './dead-letters.ts';
import { createPipelineMetrics } from './metrics.ts';
import type { RejectionEvent } from './rejections.ts';

const TABLE = 'main.iot.dlq_forward';
const LIMITS = { maxEntries: 1_000, maxBytes: 10_000_000 };

function setup(o: { url: string; prefix: string; limits?: typeof LIMITS; backlog?: number; tableOf?: (s: string) => string | undefined }) {
  const registry = new Registry();
  const logs = captureLogger();
  const redis = connectDeadLetterRedis({ url: o.url, prefix: o.prefix, limits: o.limits ?? LIMITS, log: logs.log, attemptTimeoutMs: 300 });
  const forwarder = new DeadLetterForwarder({
    store: redis.store,
    connected: () => redis.connected(),
    tableOf: o.tableOf ?? (() => TABLE),
    idPrefix: 'run1',
    maxPayloadChars: 100,
    backlog: { maxEntries: o.backlog ?? 1_000, maxBytes: 10_000_000 },
    backoff: { initialMs: 20, maxMs: 200 },
    log: logs.log,
    metrics: createPipelineMetrics(registry),
  });
  const stop = async () => {
    await forwarder.stop(1_000);
    await redis.close();
  };
  const metric = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values.map((v) => [v.labels, v.value]);
  const errors = () => logs.lines.map((l) => JSON.parse(l)).filter((l) => l.level === 'error');
  return { forwarder, stop, metric, logs, errors };
}

const event = (n: number, over: Partial<RejectionEvent['rejection']> = {}, source = 'mqtt1'): RejectionEvent => ({
  source,
  atMs: 1_700_000_000_000 + n,
  rejection: { origin: `plant/line${n}/temp`, kind: 'invalid_json', reason: `invalid JSON: bad ${n}`, payload: `{"value": ${n}`, ...over },
});

describe('DeadLetterForwarder against Redis', () => {
  const prefixes: string[] = [];
  afterAll(async () => {
    for (const p of prefixes) await deletePrefix(p, testRedisUrl());
  });
  const prefix = () => {
    const p = uniquePrefix('gw-dlq');
    prefixes.push(p);
    return p;
  };

  it('stores every rejection as a payload entry with its source, origin, kind, reason and payload, cut when long', async () => {
    const p = prefix();
    const { forwarder, stop, metric } = setup({ url: testRedisUrl(), prefix: p });
    const reader = new Redis(testRedisUrl());
    try {
      for (let n = 1; n <= 5; n++) forwarder.offer(event(n));
      forwarder.offer(event(6, { kind: undefined, payload: 'x'.repeat(250) }, 'mqtt2'));
      await until('six stored', () => forwarder.status().stored === 6);
      const store = new DeadLetterStore({ redis: reader, prefix: p, limits: LIMITS });
      const page = await store.list({ table: TABLE, limit: 10 });
      expect(page.entries.map((e) => e.id)).toEqual(Array.from({ length: 6 }, (_, i) => `run1-${String(i + 1).padStart(12, '0')}`));
      expect(await store.get('run1-000000000001')).toMatchObject({
        kind: 'payload',
        table: TABLE,
        source: 'mqtt1',
        origin: 'plant/line1/temp',
        reasonKind: 'invalid_json',
        reason: 'invalid JSON: bad 1',
        payload: '{"value": 1',
        payloadTruncated: false,
        receivedAtMs: 1_700_000_000_001,
      });
      expect(await store.get('run1-000000000006')).toMatchObject({ source: 'mqtt2', reasonKind: 'invalid_payload', payload: 'x'.repeat(100), payloadTruncated: true });
      expect([forwarder.stored('mqtt1'), forwarder.stored('mqtt2')]).toEqual([5, 1]);
      expect(await metric('records_dead_lettered_total')).toEqual([
        [{ source: 'mqtt1', kind: 'invalid_json' }, 5],
        [{ source: 'mqtt2', kind: 'invalid_payload' }, 1],
      ]);
      expect(forwarder.status()).toMatchObject({ lost: {}, storeFull: false, backlog: { entries: 0, bytes: 0 }, redis: { connected: true, consecutiveFailures: 0 } });
    } finally {
      reader.disconnect();
      await stop();
    }
  });

  it('holds rejections in a bounded backlog while Redis is down, counts what does not fit, and stores the rest once it is back', async () => {
    const port = await freePort();
    const p = prefix();
    const { forwarder, stop, metric, logs, errors } = setup({ url: `redis://127.0.0.1:${port}`, prefix: p, backlog: 20 });
    let server: Awaited<ReturnType<typeof startRedisServer>> | undefined;
    try {
      for (let n = 1; n <= 30; n++) forwarder.offer(event(n));
      expect(forwarder.status()).toMatchObject({ stored: 0, lost: { backlog_full: 10 }, backlog: { entries: 20 } });
      await until('the failure seen', () => forwarder.status().redis.consecutiveFailures > 0);
      expect(forwarder.status().redis).toMatchObject({ connected: false, lastError: expect.stringContaining('Redis') });
      expect(errors().map((e) => e.reason)).toEqual(['backlog_full']);
      expect(errors()[0]?.msg).toContain('Dead-letter backlog is full');
      expect(logs.text()).toContain('Cannot write dead letters to Redis; keeping them in memory and retrying.');

      server = await startRedisServer(port);
      await until('the backlog stored', () => forwarder.status().stored === 20, 15_000);
      const reader = new Redis(server.url);
      const store = new DeadLetterStore({ redis: reader, prefix: p, limits: LIMITS });
      const origins = (await store.list({ limit: 100 })).entries.map((e) => (e.kind === 'payload' ? e.origin : ''));
      reader.disconnect();
      // The oldest were kept, in order; the ten that found the backlog full were counted.
      expect(origins).toEqual(Array.from({ length: 20 }, (_, i) => `plant/line${i + 1}/temp`));
      expect(await metric('records_dead_letter_lost_total')).toEqual([[{ source: 'mqtt1', reason: 'backlog_full' }, 10]]);
      expect(forwarder.status()).toMatchObject({ backlog: { entries: 0 }, redis: { connected: true, consecutiveFailures: 0 } });
      expect(logs.text()).toContain('Writing dead letters to Redis again.');
    } finally {
      await stop();
      await server?.stop();
    }
  });

  it('counts the entries a full store refuses and says the store is full', async () => {
    const p = prefix();
    const { forwarder, stop, metric, errors } = setup({ url: testRedisUrl(), prefix: p, limits: { maxEntries: 3, maxBytes: 10_000_000 } });
    try {
      for (let n = 1; n <= 5; n++) forwarder.offer(event(n));
      await until('all handled', () => forwarder.status().stored + (forwarder.status().lost.dlq_full ?? 0) === 5);
      expect(forwarder.status()).toMatchObject({ stored: 3, lost: { dlq_full: 2 }, storeFull: true });
      expect(await metric('records_dead_letter_lost_total')).toEqual([[{ source: 'mqtt1', reason: 'dlq_full' }, 2]]);
      expect(errors()[0]).toMatchObject({ reason: 'dlq_full', entries: 3 });
      expect(errors()[0]?.msg).toContain('Dead-letter store is full');
    } finally {
      await stop();
    }
  });

  it('counts what is still waiting at stop as lost (shutdown), and a rejection without a table (no_table)', async () => {
    const port = await freePort();
    const { forwarder, stop, metric, errors } = setup({ url: `redis://127.0.0.1:${port}`, prefix: prefix(), tableOf: (s) => (s === 'gone' ? undefined : TABLE) });
    for (let n = 1; n <= 4; n++) forwarder.offer(event(n));
    forwarder.offer(event(5, {}, 'gone'));
    await forwarder.stop(100);
    await stop();
    forwarder.offer(event(6));
    expect(forwarder.status()).toMatchObject({ stored: 0, lost: { no_table: 1, shutdown: 5 }, backlog: { entries: 0 } });
    expect(await metric('records_dead_letter_lost_total')).toEqual([
      [{ source: 'gone', reason: 'no_table' }, 1],
      [{ source: 'mqtt1', reason: 'shutdown' }, 5],
    ]);
    expect(errors().filter((e) => e.reason === 'shutdown').map((e) => e.count)).toEqual([4, 1]);
  });
});
