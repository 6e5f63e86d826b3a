import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeReading } from '../../common/records/encode.ts';
import { BRONZE_MESSAGE } from '../../common/records/schemas.ts';
import { faultsSchema, type FaultSettings } from '../../sim/zerobus/faults.ts';
import { startTestEmulator, type TestEmulator } from '../../test/helpers/emulator.ts';
import { captureLogger } from '../../test/helpers/logs.ts';
import { mqttReading } from '../../test/helpers/readings.ts';
import type { ZerobusConfig } from '../config.ts';
import { ZerobusClient } from './client.ts';
import { ZerobusError } from './errors.ts';

const MESSAGE = BRONZE_MESSAGE.mqtt;
const BATCH = 20;

interface Run {
  client: ZerobusClient;
  recoveries: string[];
  logText: () => string;
}

describe('ZerobusClient under injected faults', () => {
  let emulator: TestEmulator;
  let tableNo = 0;
  beforeAll(async () => {
    emulator = await startTestEmulator();
  });
  afterEach(() => emulator.faults.replace(faultsSchema.parse({})));
  afterAll(async () => {
    await emulator.stop();
  });

  const nextTable = () => `main.iot.fault_${++tableNo}`;
  const inject = (settings: Partial<FaultSettings>) => emulator.faults.replace(faultsSchema.parse(settings));
  const batches = (count: number) =>
    Array.from({ length: count }, (_, b) => Array.from({ length: BATCH }, (_, i) => encodeReading(mqttReading(b * BATCH + i + 1), 'proto').data));

  function client(overrides: Partial<ZerobusConfig> = {}): Run {
    const recoveries: string[] = [];
    const { log, text } = captureLogger();
    const c = new ZerobusClient(emulator.zerobusConfig(overrides), log, { onRecovery: (_t, reason) => recoveries.push(reason) });
    return { client: c, recoveries, logText: text };
  }

  /** Sends every batch; returns the ones handed back with their errors. */
  async function sendAll(run: Run, table: string, all: string[][]): Promise<Array<{ records: string[]; error: ZerobusError }>> {
    const results = await Promise.allSettled(all.map((records) => run.client.ingest({ table, messageType: MESSAGE, recordType: 'proto', records })));
    return results.flatMap((r, i) => (r.status === 'rejected' ? [{ records: all[i] ?? [], error: r.reason as ZerobusError }] : []));
  }

  it('recovers from calls failing with UNAVAILABLE and lands everything once', async () => {
    const table = nextTable();
    inject({ fail_calls: { count: 2, code: 'UNAVAILABLE', message: 'injected' } });
    const run = client();
    expect(await sendAll(run, table, batches(10))).toEqual([]);
    await run.client.close(1000);
    expect(run.recoveries.filter((r) => r === 'UNAVAILABLE')).toHaveLength(2);
    expect(await emulator.duplicates(table)).toMatchObject({ rows: 200, distinct: 200, duplicates: 0 });
  });

  it('hands PERMISSION_DENIED back as a typed error with the server message, losing nothing', async () => {
    const table = nextTable();
    inject({ fail_calls: { count: 1, code: 'PERMISSION_DENIED', message: 'no MODIFY on the table' } });
    const run = client();
    const all = batches(3);
    const failed = await sendAll(run, table, all);
    expect(failed).toHaveLength(3);
    for (const f of failed) {
      expect(f.error).toBeInstanceOf(ZerobusError);
      expect(f.error).toMatchObject({ code: 'PERMISSION_DENIED', retryable: false, table });
      expect(f.error.message).toContain('no MODIFY on the table');
    }
    // Handed back, not lost: sent again once the grant is fixed, they land.
    expect(await sendAll(run, table, failed.map((f) => f.records))).toEqual([]);
    await run.client.close(1000);
    expect(await emulator.duplicates(table)).toMatchObject({ rows: 60, distinct: 60, duplicates: 0 });
  });

  it('refreshes the token once on UNAUTHENTICATED, and fails typed when the refresh does not help', async () => {
    const table = nextTable();
    inject({ fail_calls: { count: 1, code: 'UNAUTHENTICATED', message: 'token expired' } });
    const run = client();
    expect(await sendAll(run, table, batches(2))).toEqual([]);
    expect(run.logText()).toContain('Stream refused the token; refreshing it once.');

    inject({ fail_calls: { count: 2, code: 'UNAUTHENTICATED', message: 'token expired' } });
    const other = client();
    const failed = await sendAll(other, table, batches(1));
    expect(failed.map((f) => f.error.code)).toEqual(['UNAUTHENTICATED']);
    expect(failed[0]?.error.retryable).toBe(false);
    await run.client.close(1000);
    await other.client.close(1000);
  });

  it('waits for slow acks within the ack timeout without resending', async () => {
    const table = nextTable();
    inject({ ack_delay_ms: 300 });
    const run = client({ ack_timeout_ms: 5000 });
    expect(await sendAll(run, table, batches(5))).toEqual([]);
    await run.client.close(1000);
    expect(run.recoveries).toEqual([]);
    expect(await emulator.duplicates(table)).toMatchObject({ rows: 100, duplicates: 0 });
  });

  it('declares a stream dead when acks are later than the ack timeout, resends, and counts the duplicates', async () => {
    const table = nextTable();
    inject({ ack_delay_ms: 1500 });
    const run = client({ ack_timeout_ms: 300, recovery_attempts: 2 });
    const all = batches(1);
    const failed = await sendAll(run, table, all);
    // Every try landed rows but no ack came in time: handed back as a retryable ACK_TIMEOUT.
    expect(failed.map((f) => [f.error.code, f.error.retryable])).toEqual([['ACK_TIMEOUT', true]]);
    expect(run.recoveries.filter((r) => r === 'ACK_TIMEOUT')).toHaveLength(2);
    inject({});
    expect(await sendAll(run, table, failed.map((f) => f.records))).toEqual([]);
    await run.client.close(1000);
    const report = await emulator.duplicates(table);
    expect(report.distinct).toBe(BATCH);
    // Three timed-out tries (first + 2 recoveries) and the final one: four copies of the batch.
    expect(report).toMatchObject({ rows: 4 * BATCH, duplicates: 3 * BATCH });
  });

  it('drains on close_stream_signal, reopens, and lands everything', async () => {
    const table = nextTable();
    inject({ close_stream_after_messages: 3, close_stream_duration_ms: 500 });
    const run = client({ max_inflight_batches: 2 });
    expect(await sendAll(run, table, batches(10))).toEqual([]);
    await run.client.close(1000);
    // Each stream carries 3 messages, or 4 when one more was in flight as the signal came: 10 need 2 or more streams' signals.
    expect(run.recoveries.filter((r) => r === 'close_stream_signal').length).toBeGreaterThanOrEqual(2);
    const report = await emulator.duplicates(table);
    expect(report.distinct).toBe(200);
    // The client waited for the in-flight acks before reopening, so nothing was sent twice.
    expect(report.duplicates).toBe(0);
  });

  it('resends what was unacked after the connection drops mid-stream; only the dropped batch repeats', async () => {
    const table = nextTable();
    inject({ drop_connection_after_messages: 2 });
    const run = client({ max_inflight_batches: 4 });
    expect(await sendAll(run, table, batches(10))).toEqual([]);
    await run.client.close(1000);
    expect(run.recoveries.length).toBeGreaterThanOrEqual(1);
    // The second message was written, then the connection dropped before its ack: it lands twice.
    expect(await emulator.duplicates(table)).toMatchObject({ rows: 200 + BATCH, distinct: 200, duplicates: BATCH });
  });

  it('hands a schema rejection back as a permanent INVALID_ARGUMENT for every pending batch', async () => {
    const table = nextTable();
    inject({ reject_schema_tables: [table] });
    const run = client();
    const failed = await sendAll(run, table, batches(4));
    expect(failed).toHaveLength(4);
    for (const f of failed) expect(f.error).toMatchObject({ code: 'INVALID_ARGUMENT', retryable: false });
    expect(failed[0]?.error.message).toContain(`schema mismatch: the descriptor does not match the columns of ${table}`);
    await run.client.close(100);
    expect(await emulator.count(table)).toBe(0);
  });

  it('retries a token endpoint answering 503, and reports 401 as a configuration error', async () => {
    const table = nextTable();
    inject({ token_endpoint: { status: 503, count: 2 } });
    const run = client();
    expect(await sendAll(run, table, batches(1))).toEqual([]);
    await run.client.close(1000);
    expect(run.logText()).toContain('Token request failed; retrying.');

    inject({ token_endpoint: { status: 401, count: 1 } });
    const other = client();
    const failed = await sendAll(other, nextTable(), batches(1));
    expect(failed.map((f) => [f.error.code, f.error.retryable])).toEqual([['TOKEN_REJECTED', false]]);
    expect(failed[0]?.error.message).toContain('HTTP 401');
    await other.client.close(100);
  });

  it('gets past a records/s quota by reopening, without duplicates', async () => {
    const table = nextTable();
    inject({ records_per_s_per_stream: 50 });
    const run = client({ max_inflight_batches: 1, recovery_attempts: 20 });
    expect(await sendAll(run, table, batches(6))).toEqual([]);
    await run.client.close(1000);
    expect(run.recoveries).toContain('RESOURCE_EXHAUSTED');
    expect(await emulator.duplicates(table)).toMatchObject({ rows: 120, distinct: 120, duplicates: 0 });
  });

  it('rides out a short outage of the service and lands everything', async () => {
    const table = nextTable();
    const run = client({ recovery_attempts: 20, recovery_max_ms: 300 });
    expect(await sendAll(run, table, batches(2))).toEqual([]);
    await emulator.drop(800);
    expect(await sendAll(run, table, batches(4).slice(2))).toEqual([]);
    await run.client.close(1000);
    expect(await emulator.duplicates(table)).toMatchObject({ rows: 80, distinct: 80, duplicates: 0 });
  });
});
