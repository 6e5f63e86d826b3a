import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBatchJob, queueNameFor, tableRegistryKey, type BatchJob } from '../common/batch.ts';
import { parseConfigText } from '../common/config/load.ts';
import { decodeRecord } from '../common/records/encode.ts';
import { captureLogger } from '../test/helpers/logs.ts';
import { startBroker, type Broker } from '../test/helpers/mosquitto.ts';
import { deletePrefix, testRedisUrl, uniquePrefix } from '../test/helpers/redis.ts';
import { startGateway, type Gateway } from './app.ts';
import { gatewayConfigSchema } from './config.ts';
import { until } from '../test/helpers/wait.ts';

const TABLE = 'main.iot.mqtt_int';
const N = 30;

function configFor(brokerUrl: string, prefix: string, recordType: 'proto' | 'json', maxWaitMs: number) {
  return parseConfigText(
    `
gateway: { id: gw-int }
log: { level: silent }
redis: { url: ${testRedisUrl()}, prefix: ${prefix} }
http: { host: 127.0.0.1, port: 0 }
batching: { max_records: 7, max_wait_ms: ${maxWaitMs} }
routing: { record_type: ${recordType} }
sources:
  - name: plant
    table: ${TABLE}
    mqtt:
      url: ${brokerUrl}
      reconnect_period_ms: 100
      subscriptions:
        - { topic: "plant/+/temp", tag: "{1}/{2}", timestamp_path: ts }
        - { topic: "plant/#", value_path: "" }
  - name: spare
    enabled: false
    mqtt: { url: ${brokerUrl}, subscriptions: [{ topic: spare }] }
`,
    gatewayConfigSchema,
    {},
  );
}

async function queuedJobs(prefix: string): Promise<BatchJob[]> {
  const queue = new Queue(queueNameFor(TABLE), { connection: { url: testRedisUrl() }, prefix });
  try {
    const jobs = await queue.getJobs(['waiting'], 0, -1, true);
    return jobs.map((j) => {
      assertBatchJob(j.data);
      return j.data;
    });
  } finally {
    await queue.close();
  }
}

describe('gateway end to end: Mosquitto to BullMQ', () => {
  let broker: Broker;
  let publisher: MqttClient;
  const prefixes: string[] = [];

  beforeAll(async () => {
    broker = await startBroker();
    publisher = await connectAsync(broker.url, { clientId: `pub-app-${process.pid}` });
  });
  afterAll(async () => {
    await publisher?.endAsync();
    await broker?.stop();
    for (const p of prefixes) await deletePrefix(p, testRedisUrl());
  });

  async function run(recordType: 'proto' | 'json', maxWaitMs = 20): Promise<{ gateway: Gateway; prefix: string }> {
    const prefix = uniquePrefix(`app-${recordType}`);
    prefixes.push(prefix);
    const gateway = await startGateway(configFor(broker.url, prefix, recordType, maxWaitMs), { log: captureLogger().log });
    await until('the source subscribed', () => gateway.status().sources[0]?.state === 'connected');
    return { gateway, prefix };
  }

  it('delivers every message as protobuf rows with seq 1..N, and counts a malformed payload without losing its neighbours', async () => {
    const { gateway, prefix } = await run('proto');
    const baseMs = Date.UTC(2024, 4, 1);
    for (let i = 1; i <= N; i++) {
      const topic = i % 2 === 0 ? `plant/line${i % 3}/temp` : `plant/line${i % 3}/motor/speed`;
      const payload = i % 2 === 0 ? JSON.stringify({ value: i, ts: baseMs + i }) : String(i);
      await publisher.publishAsync(topic, payload, { qos: 1 });
      if (i === N / 2) await publisher.publishAsync('plant/line1/temp', '{"value": oops}', { qos: 1 });
    }
    await until('N records in Redis', () => gateway.status().tables[TABLE]?.recordsEnqueued === N);

    const jobs = await queuedJobs(prefix);
    expect(jobs.every((j) => j.table === TABLE && j.gatewayId === 'gw-int' && j.recordType === 'proto' && j.messageType === 'iot.bronze.MqttReading')).toBe(true);
    expect(jobs.length).toBeGreaterThanOrEqual(Math.ceil(N / 7));
    const rows = jobs.flatMap((j) => j.records.map((r) => decodeRecord(j.messageType, r)));
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: N }, (_, k) => k + 1));
    expect(rows.map((r) => r.value_number)).toEqual(Array.from({ length: N }, (_, k) => k + 1));
    expect(new Set(rows.map((r) => r.run_id))).toEqual(new Set([gateway.runId]));
    expect(rows[1]).toMatchObject({
      source_name: 'plant',
      gateway_id: 'gw-int',
      tag: 'line2/temp',
      topic: 'plant/line2/temp',
      qos: 1,
      event_time: (baseMs + 2) * 1000,
      value_type: 'number',
    });
    expect(rows[0]).toMatchObject({ tag: 'plant/line1/motor/speed', value_string: '1' });

    const status = gateway.status();
    expect(status.sources.map((s) => [s.name, s.state, s.readings, s.lastSeq, s.rejected])).toEqual([
      ['plant', 'connected', N, N, 1],
      ['spare', 'disabled', 0, 0, 0],
    ]);
    expect(status.sources[0]?.recentRejections).toEqual([expect.objectContaining({ origin: 'plant/line1/temp', kind: 'invalid_json', payload: '{"value": oops}' })]);
    expect(status.queue).toMatchObject({ batches: 0, records: 0, bytes: 0, openRecords: 0 });
    expect(status.spool).toEqual({ enabled: false });

    const base = `http://127.0.0.1:${gateway.httpPort}`;
    expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${base}/status`)).json()).toMatchObject({ gatewayId: 'gw-int', runId: gateway.runId, tables: { [TABLE]: { recordsEnqueued: N } } });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain(`records_read_total{source="plant"} ${N}`);
    expect(metrics).toContain('records_rejected_total{source="plant",reason="invalid_json"} 1');
    expect(metrics).toContain(`records_enqueued_total{table="${TABLE}"} ${N}`);
    expect(metrics).toContain(`batches_enqueued_total{table="${TABLE}"} ${jobs.length}`);
    expect(metrics).toContain('enqueue_errors_total 0');

    const redis = new Redis(testRedisUrl());
    expect(await redis.smembers(tableRegistryKey(prefix))).toEqual([TABLE]);
    redis.disconnect();

    await gateway.stop();
    await gateway.stop();
    await expect(fetch(`${base}/health`)).rejects.toThrow();
  });

  it('flushes a batch still filling at stop, and writes JSON records when routing says json', async () => {
    const { gateway, prefix } = await run('json', 60_000);
    await publisher.publishAsync('plant/a/temp', '{"value": "RUN", "ts": "2024-05-01T00:00:00Z"}', { qos: 1 });
    await until('the reading read', () => gateway.status().sources[0]?.readings === 1);
    expect(gateway.status().queue.openRecords).toBe(1);
    await gateway.stop();
    const jobs = await queuedJobs(prefix);
    expect(jobs.map((j) => j.recordType)).toEqual(['json']);
    expect(jobs.flatMap((j) => j.records.map((r) => JSON.parse(r)))).toEqual([expect.objectContaining({ seq: 1, tag: 'a/temp', value_string: 'RUN', value_type: 'string' })]);
  });

  it('sends only changes and heartbeats to Redis while every reading still reaches in-process listeners', async () => {
    const prefix = uniquePrefix('app-rbe');
    prefixes.push(prefix);
    const config = parseConfigText(
      `
gateway: { id: gw-rbe }
redis: { url: ${testRedisUrl()}, prefix: ${prefix} }
http: { host: 127.0.0.1, port: 0 }
batching: { max_wait_ms: 10 }
sources:
  - name: rbe
    table: ${TABLE}
    report: { mode: deadband, deadband_abs: 0.5, heartbeat_s: 1, tags: [{ match: "rbe/status", mode: change }] }
    mqtt: { url: ${broker.url}, subscriptions: [{ topic: "rbe/#", format: plain }] }
`,
      gatewayConfigSchema,
      {},
    );
    const gateway = await startGateway(config, { log: captureLogger().log });
    const seen: Array<[string, unknown, number]> = [];
    gateway.events.on('reading', (r) => seen.push([r.tag, r.value, r.seq]));
    try {
      await until('subscribed', () => gateway.status().sources[0]?.state === 'connected');
      const sent: Array<[string, string]> = [
        ['rbe/temp', '10'],
        ['rbe/temp', '10.3'],
        ['rbe/temp', '10.5'],
        ['rbe/temp', '10.6'],
        ['rbe/status', '1'],
        ['rbe/status', '1'],
        ['rbe/status', '2'],
      ];
      for (const [topic, value] of sent) await publisher.publishAsync(topic, value, { qos: 1 });
      await until('all read', () => gateway.status().sources[0]?.readings === sent.length);
      // One heartbeat per tag after 1 s of nothing reported: the latest value again, with its own seq.
      await until('two heartbeats enqueued', () => gateway.status().tables[TABLE]?.recordsEnqueued === 6, 5_000);
      expect(gateway.status().sources[0]).toMatchObject({ filtered: 3, heartbeats: 2, lastSeq: 6 });
      // Listeners got every reading; a kept-back one carries the last written seq.
      expect(seen).toEqual([
        ['rbe/temp', 10, 1],
        ['rbe/temp', 10.3, 1],
        ['rbe/temp', 10.5, 1],
        ['rbe/temp', 10.6, 2],
        ['rbe/status', 1, 3],
        ['rbe/status', 1, 3],
        ['rbe/status', 2, 4],
      ]);
      const rows = (await queuedJobs(prefix)).flatMap((j) => j.records.map((r) => decodeRecord(j.messageType, r)));
      expect(rows.map((r) => [r.seq, r.tag, r.value_number])).toEqual([
        [1, 'rbe/temp', 10],
        [2, 'rbe/temp', 10.6],
        [3, 'rbe/status', 1],
        [4, 'rbe/status', 2],
        [5, 'rbe/temp', 10.6],
        [6, 'rbe/status', 2],
      ]);
      // A heartbeat keeps the measured value's event time; its ingest time is when it was sent.
      expect(rows[4]?.event_time).toBe(rows[1]?.event_time);
      expect(Number(rows[4]?.ingest_time)).toBeGreaterThan(Number(rows[1]?.ingest_time));
      const metrics = await (await fetch(`http://127.0.0.1:${gateway.httpPort}/metrics`)).text();
      expect(metrics).toContain('records_filtered_total{source="rbe"} 3');
      expect(metrics).toContain('records_heartbeat_total{source="rbe"} 2');
      expect(metrics).toContain('connection_status{source="rbe"} 1');
    } finally {
      await gateway.stop();
    }
  });
});
