import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Counter, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueNameFor, type BatchJob } from '../../common/batch.ts';
import type { NewDeadLetter } from '../../common/dlq/entry.ts';
import { DeadLetterStore, batchEntryId } from '../../common/dlq/store.ts';
import { encodeReading } from '../../common/records/encode.ts';
import { BRONZE_MESSAGE } from '../../common/records/schemas.ts';
import { Secret } from '../../common/secret.ts';
import { captureLogger } from '../../test/helpers/logs.ts';
import { mqttReading } from '../../test/helpers/readings.ts';
import { deletePrefix, testRedisUrl, uniquePrefix } from '../../test/helpers/redis.ts';
import type { RelayStatus } from '../status.ts';
import { createApp } from './app.ts';

const TOKEN = 'relay-api-token-0123456789';
const TABLE = 'main.iot.api_test';

const status: RelayStatus = {
  relayId: 'relay-test',
  startedAt: '2025-01-01T00:00:00.000Z',
  uptimeS: 5,
  stopping: false,
  tables: [],
  workers: [],
  deadLetters: null,
  streams: [],
};

function batchEntry(jobId: string, count: number): NewDeadLetter {
  const records = Array.from({ length: count }, (_, i) => encodeReading(mqttReading(i + 1), 'proto').data);
  const recordIndexes = records.map((_, i) => i);
  return {
    kind: 'batch',
    id: batchEntryId(TABLE, jobId, recordIndexes),
    table: TABLE,
    messageType: BRONZE_MESSAGE.mqtt,
    recordType: 'proto',
    records,
    recordIndexes,
    jobId,
    disposition: 'rejected',
    error: { code: 'INVALID_ARGUMENT', message: 'refused', retryable: false },
    attempts: 1,
    firstFailureMs: 1,
    lastFailureMs: 1,
  };
}

const payloadEntry: NewDeadLetter = {
  kind: 'payload',
  table: TABLE,
  source: 'site1-mqtt',
  origin: 'plant/site1/x',
  reasonKind: 'invalid_json',
  reason: 'payload is not JSON',
  payload: '{oops',
  payloadTruncated: false,
  receivedAtMs: 1,
};

describe('relay HTTP API (app.request, real Redis)', () => {
  const prefix = uniquePrefix('relay-api');
  const logs = captureLogger();
  let redis: Redis;
  let dlq: DeadLetterStore;
  let queue: Queue;
  let app: ReturnType<typeof createApp>;
  let open: ReturnType<typeof createApp>;
  let ready = true;

  beforeAll(() => {
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
    dlq = new DeadLetterStore({ redis, prefix, limits: { maxEntries: 1000, maxBytes: 10_000_000 } });
    queue = new Queue(queueNameFor(TABLE), { connection: redis, prefix });
    const registry = new Registry();
    new Counter({ name: 'records_written_total', help: 'h', labelNames: ['table'], registers: [registry] }).inc({ table: TABLE }, 7);
    const deps = {
      status: async () => status,
      ready: async () => ({ ready, checks: { redis: { ok: true }, zerobus: ready ? { ok: true } : { ok: false, detail: 'no connection' } } }),
      metrics: async () => ({ text: await registry.metrics(), contentType: registry.contentType }),
      dlq,
      enqueue: async (job: BatchJob, jobId: string) => void (await queue.add('batch', job, { jobId })),
      log: logs.log,
    };
    app = createApp({ ...deps, token: new Secret(TOKEN) });
    open = createApp({ ...deps, token: undefined });
  });
  afterAll(async () => {
    await queue.close();
    redis.disconnect();
    await deletePrefix(prefix, testRedisUrl());
  });

  const auth = { authorization: `Bearer ${TOKEN}` };

  it('answers /health, /status, /metrics and /openapi.json', async () => {
    expect(await (await app.request('/health')).json()).toEqual({ status: 'ok' });
    expect(await (await app.request('/status')).json()).toEqual(status);
    const metrics = await app.request('/metrics');
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(await metrics.text()).toContain(`records_written_total{table="${TABLE}"} 7`);
    const doc = (await (await app.request('/openapi.json')).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/dlq', '/dlq/{id}', '/dlq/{id}/replay', '/dlq/replay', '/ready']));
  });

  it('answers /ready with 503 and the failing check when not ready', async () => {
    expect((await app.request('/ready')).status).toBe(200);
    ready = false;
    const res = await app.request('/ready');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ ready: false, checks: { zerobus: { ok: false, detail: 'no connection' } } });
    ready = true;
  });

  it('serves the dashboard page at / with no external assets', async () => {
    const res = await app.request('/');
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    expect(html).toContain("fetch('status')");
    expect(html).not.toMatch(/(src|href)="https?:/);
  });

  describe('token enforcement', () => {
    const mutations: Array<[string, string]> = [
      ['POST', '/dlq/some-id/replay'],
      ['POST', `/dlq/replay?table=${TABLE}`],
      ['DELETE', '/dlq/some-id'],
    ];

    it.each(mutations)('%s %s answers 401 without a token or with a wrong one', async (method, path) => {
      for (const headers of [{}, { authorization: 'Bearer wrong-token-0123456789' }, { authorization: TOKEN }, { authorization: `Basic ${TOKEN}` }] as Array<Record<string, string>>) {
        const res = await app.request(path, { method, headers });
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer realm="relay"');
        expect(await res.json()).toEqual({ error: 'unauthorized', message: 'this endpoint needs the header Authorization: Bearer <api.token>' });
      }
    });

    it.each(mutations)('%s %s answers 403 when no token is configured', async (method, path) => {
      const res = await open.request(path, { method, headers: auth });
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ error: 'forbidden', message: expect.stringContaining('set api.token') });
    });

    it('lets reads through without a token', async () => {
      expect((await app.request('/dlq')).status).toBe(200);
    });

    it('never shows the token in responses or logs', async () => {
      await app.request('/dlq/x/replay', { method: 'POST', headers: { authorization: 'Bearer nope' } });
      expect(logs.text()).not.toContain(TOKEN);
    });
  });

  describe('malformed requests', () => {
    it.each([
      ['/dlq?limit=abc', 'limit: expected a whole number'],
      ['/dlq?limit=0', 'limit: expected at least 1'],
      ['/dlq?limit=5000', 'limit: expected at most 1000'],
      ['/dlq?table=nodots', 'table: expected a table name like catalog.schema.table'],
      ['/dlq?cursor=zzz', 'cursor: expected a nextCursor value from an earlier page'],
      ['/dlq?tabel=main.iot.x', 'tabel: unknown key'],
      ['/dlq/bad%20id', 'id: expected 1-64 letters, digits, _ or -'],
    ])('GET %s answers 400 saying %s', async (path, message) => {
      const res = await app.request(path);
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: string; message: string; problems: unknown[] };
      expect(body.error).toBe('bad_request');
      expect(body.message).toContain(message);
      expect(body.problems.length).toBeGreaterThan(0);
    });

    it('answers 400 to a bulk replay without a table', async () => {
      const res = await app.request('/dlq/replay', { method: 'POST', headers: auth });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'bad_request', message: expect.stringContaining('table: required key is missing') });
    });

    it('answers 404 in JSON for an unknown route', async () => {
      const res = await app.request('/nope');
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: 'not_found' });
    });
  });

  describe('dead letters', () => {
    it('lists entries, shows one whole with decoded rows, and answers 404 for an unknown id', async () => {
      const { id } = await dlq.add(batchEntry('job-list', 2));
      const list = (await (await app.request(`/dlq?table=${TABLE}&limit=10`)).json()) as { entries: Array<{ id: string; recordCount: number }> };
      expect(list.entries).toContainEqual(expect.objectContaining({ id, recordCount: 2 }));
      const entry = (await (await app.request(`/dlq/${id}`)).json()) as { records: string[]; decoded: Array<{ index: number; row: { seq: number } }> };
      expect(entry.records).toHaveLength(2);
      expect(entry.decoded.map((d) => [d.index, d.row.seq])).toEqual([
        [0, 1],
        [1, 2],
      ]);
      expect((await app.request('/dlq/unknown-id')).status).toBe(404);
    });

    it('replays a batch entry onto its queue and removes it', async () => {
      const { id } = await dlq.add(batchEntry('job-replay', 3));
      const res = await app.request(`/dlq/${id}/replay`, { method: 'POST', headers: auth });
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({ replayed: true, id, jobId: `dlq-replay.${id}`, table: TABLE, records: 3 });
      const job = await queue.getJob(`dlq-replay.${id}`);
      expect(job?.data).toMatchObject({ v: 1, table: TABLE, records: expect.any(Array) });
      expect(job?.data.records).toHaveLength(3);
      expect(await dlq.get(id)).toBeUndefined();
      expect((await app.request(`/dlq/${id}/replay`, { method: 'POST', headers: auth })).status).toBe(404);
    });

    it('refuses to replay a payload entry with 409 and says why', async () => {
      const { id } = await dlq.add(payloadEntry);
      const res = await app.request(`/dlq/${id}/replay`, { method: 'POST', headers: auth });
      expect(res.status).toBe(409);
      expect(await res.json()).toEqual({
        error: 'not_replayable',
        id,
        message: expect.stringContaining('raw site1-mqtt payload that never became records; there is nothing to replay'),
      });
      expect(await dlq.get(id)).toBeDefined();
    });

    it("replays every batch entry of a table, skipping payload entries", async () => {
      for (const job of ['bulk-1', 'bulk-2']) await dlq.add(batchEntry(job, 1));
      const before = await dlq.count(TABLE);
      const res = await app.request(`/dlq/replay?table=${TABLE}`, { method: 'POST', headers: auth });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { replayed: number; skippedPayloads: number; remaining: number };
      expect(body.skippedPayloads).toBe(1);
      expect(body.replayed).toBe(before - 1);
      expect(body.remaining).toBe(1);
    });

    it('deletes an entry', async () => {
      const { id } = await dlq.add(batchEntry('job-delete', 1));
      const res = await app.request(`/dlq/${id}`, { method: 'DELETE', headers: auth });
      expect(await res.json()).toEqual({ deleted: true, id });
      expect((await app.request(`/dlq/${id}`, { method: 'DELETE', headers: auth })).status).toBe(404);
    });
  });
});
