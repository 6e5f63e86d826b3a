import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeReading } from '../../common/records/encode.ts';
import { BRONZE_MESSAGE } from '../../common/records/schemas.ts';
import { startTestEmulator, type TestEmulator } from '../../test/helpers/emulator.ts';
import { captureLogger } from '../../test/helpers/logs.ts';
import { mqttReading } from '../../test/helpers/readings.ts';
import { ZerobusClient } from './client.ts';
import { ZerobusError } from './errors.ts';

const TABLE = 'main.iot.client_test';
const MESSAGE = BRONZE_MESSAGE.mqtt;

function records(from: number, count: number, type: 'proto' | 'json' = 'proto'): string[] {
  return Array.from({ length: count }, (_, i) => encodeReading(mqttReading(from + i), type).data);
}

describe('ZerobusClient against the emulator', () => {
  let emulator: TestEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator();
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it('lands a batch durably, with every value decoded through the descriptor', async () => {
    const client = new ZerobusClient(emulator.zerobusConfig(), captureLogger().log);
    await client.ingest({ table: TABLE, messageType: MESSAGE, recordType: 'proto', records: records(1, 100) });
    await client.close(1000);
    expect(await emulator.count(TABLE)).toBe(100);
    const rows = await emulator.rows(TABLE, 100);
    expect(rows[0]).toMatchObject({ seq: 1, value_number: 1.5, value_string: '1.5', topic: 'plant/line1/temp1', source_name: 'test-src', quality: 0, event_time: 1_763_856_000_001_000 });
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });

  it('pipelines many concurrent batches on one stream and acks each exactly once', async () => {
    const table = 'main.iot.client_pipeline';
    const client = new ZerobusClient(emulator.zerobusConfig({ max_inflight_batches: 4 }), captureLogger().log);
    let maxPending = 0;
    const sampler = setInterval(() => (maxPending = Math.max(maxPending, client.status()[0]?.pendingBatches ?? 0)), 1);
    await Promise.all(Array.from({ length: 40 }, (_, b) => client.ingest({ table, messageType: MESSAGE, recordType: 'proto', records: records(b * 50 + 1, 50) })));
    clearInterval(sampler);
    // Callers past the cap waited instead of piling up batches.
    expect(maxPending).toBeGreaterThan(0);
    expect(maxPending).toBeLessThanOrEqual(4);
    expect(client.status()).toEqual([expect.objectContaining({ table, state: 'open', pendingBatches: 0 })]);
    await client.close(1000);
    expect(await emulator.duplicates(table)).toMatchObject({ rows: 2000, distinct: 2000, duplicates: 0 });
  });

  it('splits a batch larger than 10 MiB into calls under the limit, and all of it lands', async () => {
    const table = 'main.iot.client_large';
    const big = 'x'.repeat(10_000);
    const large = Array.from({ length: 1200 }, (_, i) => encodeReading(mqttReading(i + 1, `${i}:${big}`), 'proto').data);
    const bytes = large.reduce((n, r) => n + Buffer.from(r, 'base64').length, 0);
    expect(bytes).toBeGreaterThan(11 * 1024 * 1024);
    const client = new ZerobusClient(emulator.zerobusConfig(), captureLogger().log);
    await client.ingest({ table, messageType: MESSAGE, recordType: 'proto', records: large });
    await client.close(1000);
    expect(await emulator.duplicates(table)).toMatchObject({ rows: 1200, distinct: 1200, duplicates: 0 });
  });

  it('sends JSON records when the record type is json', async () => {
    const table = 'main.iot.client_json';
    const client = new ZerobusClient(emulator.zerobusConfig(), captureLogger().log);
    await client.ingest({ table, messageType: MESSAGE, recordType: 'json', records: records(1, 5, 'json') });
    await client.close(1000);
    expect((await emulator.rows(table)).map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('hands back an undecodable record as a permanent INVALID_ARGUMENT error', async () => {
    const table = 'main.iot.client_bad';
    const client = new ZerobusClient(emulator.zerobusConfig(), captureLogger().log);
    const bad = Buffer.from([0xff, 0xff, 0xff]).toString('base64');
    const error = await client.ingest({ table, messageType: MESSAGE, recordType: 'proto', records: [...records(1, 2), bad] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ZerobusError);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', retryable: false, table });
    expect((error as Error).message).toContain('record 2');
    // The stream recovers for the next batch.
    await client.ingest({ table, messageType: MESSAGE, recordType: 'proto', records: records(10, 3) });
    await client.close(1000);
    expect(await emulator.count(table)).toBe(3);
  });

  it('refreshes a refused token once and carries on', async () => {
    const table = 'main.iot.client_token';
    const { log, text } = captureLogger();
    const client = new ZerobusClient(emulator.zerobusConfig(), log);
    await client.ingest({ table, messageType: MESSAGE, recordType: 'proto', records: records(1, 1) });
    emulator.tokens.expireAll();
    // Break the stream so the next batch opens a new one with the cached, now expired, token.
    const bad = Buffer.from([0xff, 0xff, 0xff]).toString('base64');
    await expect(client.ingest({ table, messageType: MESSAGE, recordType: 'proto', records: [bad] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await client.ingest({ table, messageType: MESSAGE, recordType: 'proto', records: records(2, 1) });
    await client.close(1000);
    expect(await emulator.count(table)).toBe(2);
    expect(text()).toContain('Stream refused the token; refreshing it once.');
    expect(text()).not.toContain('test-secret-7d1c');
  });

  it('reports a wrong client secret as a permanent configuration error', async () => {
    const strict = await startTestEmulator('clients:\n  - { client_id: test-client, client_secret: right-secret }\n');
    try {
      const client = new ZerobusClient(strict.zerobusConfig(), captureLogger().log);
      const error = await client.ingest({ table: TABLE, messageType: MESSAGE, recordType: 'proto', records: records(1, 1) }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'TOKEN_REJECTED', retryable: false });
      expect((error as Error).message).toContain('HTTP 401');
      expect((error as Error).message).not.toContain('test-secret-7d1c');
      await client.close(100);
    } finally {
      await strict.stop();
    }
  });
});
