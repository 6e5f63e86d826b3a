import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBatchJob, queueNameFor } from '../common/batch.ts';
import { parseConfigText } from '../common/config/load.ts';
import { decodeRecord } from '../common/records/encode.ts';
import { startModbusSim, type ModbusSim } from '../sim/devices/modbus-sim.ts';
import { captureLogger } from '../test/helpers/logs.ts';
import { startBroker, type Broker } from '../test/helpers/mosquitto.ts';
import { freePort } from '../test/helpers/ports.ts';
import { startRedisServer } from '../test/helpers/redis-server.ts';
import { until } from '../test/helpers/wait.ts';
import { startGateway } from './app.ts';
import { gatewayConfigSchema } from './config.ts';
import type { GatewayStatus } from './status.ts';

const MQTT_TABLE = 'main.iot.block_mqtt';
const MODBUS_TABLE = 'main.iot.block_modbus';
const BEFORE = 3;
const WHILE_PAUSED = 100;
/** Readings a paused Modbus source must not add while this many more of its polls are skipped. */
const PAUSED_TICKS = 5;

type Entry = GatewayStatus['sources'][number];
interface ModbusDevice {
  name: string;
  unitId: number;
  polls: number;
  pollsPaused: number;
  requests: number;
}

/**
 * Acceptance for queue policy block: with Redis down and no spool, the memory queue fills,
 * the gateway pauses an MQTT source on a persistent QoS 1 session and a Modbus source, and
 * resumes them once Redis is back and the queue drains. Nothing is dropped: the broker held
 * what was published while the MQTT source was paused, and Modbus skipped its polls.
 */
describe('queue policy block with Redis down', () => {
  let broker: Broker;
  let sim: ModbusSim;
  let dir: string;
  beforeAll(async () => {
    broker = await startBroker();
    sim = await startModbusSim({ units: [1] });
    dir = await mkdtemp(join(tmpdir(), 'gw-block-'));
  });
  afterAll(async () => {
    await sim?.stop();
    await broker?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('pauses the MQTT and Modbus sources, then resumes them and loses nothing', async () => {
    const port = await freePort();
    const redisDir = join(dir, 'redis');
    await mkdir(redisDir);
    let redis = await startRedisServer(port, { persistDir: redisDir });
    const config = parseConfigText(
      `
gateway: { id: gw-block, stop_timeout_ms: 1000 }
redis: { url: "${redis.url}", prefix: block }
http: { port: 0 }
batching: { max_records: 5, max_wait_ms: 10 }
queue: { max_batches: 40, policy: block }
dlq: { retry_max_ms: 500 }
sources:
  - name: broker
    table: ${MQTT_TABLE}
    mqtt: { url: "${broker.url}", clean: false, client_id: "gw-block-${process.pid}", reconnect_period_ms: 100, subscriptions: [{ topic: "blk/+", format: plain, tag: "{1}", qos: 1 }] }
  - name: plc
    table: ${MODBUS_TABLE}
    modbus:
      host: 127.0.0.1
      port: ${sim.port}
      timeout_ms: 300
      devices:
        - name: dev
          unit_id: 1
          poll_interval_ms: 20
          tags: [{ name: a, register_type: holding, address: 0 }, { name: b, register_type: holding, address: 1 }, { name: c, register_type: holding, address: 2 }]
`,
      gatewayConfigSchema,
      {},
    );
    const logs = captureLogger();
    const gateway = await startGateway(config, { log: logs.log });
    const publisher = await connectAsync(broker.url, { clientId: `block-pub-${process.pid}` });
    const source = (name: string) => gateway.status().sources.find((s) => s.name === name) as Entry;
    const device = () => (source('plc').details?.devices as ModbusDevice[])[0] as ModbusDevice;
    const publish = (from: number, to: number) => Promise.all(Array.from({ length: to - from + 1 }, (_, i) => publisher.publishAsync('blk/v', String(from + i), { qos: 1 })));
    try {
      await until('both sources connected', () => gateway.status().sources.every((s) => s.state === 'connected'));
      await publish(1, BEFORE);
      await publisher.publishAsync('blk/bad', 'not a number', { qos: 1 });
      await publisher.publishAsync('blk/bad', '12 kW', { qos: 1 });
      await until('the first readings in Redis', () => gateway.status().tables[MQTT_TABLE]?.recordsEnqueued === BEFORE);

      // GET /status carries each driver's details: per-topic rejections, per-device counters.
      await until('both rejections dead-lettered', () => source('broker').deadLettered === 2);
      const status = (await (await fetch(`http://127.0.0.1:${gateway.httpPort}/status`)).json()) as GatewayStatus;
      const mqtt = status.sources.find((s) => s.name === 'broker') as Entry;
      expect(mqtt).toMatchObject({ flow: 'running', rejected: 2, deadLettered: 2, details: { clean: false, paused: false, messages: BEFORE + 2, rejected: 2, rejectedByTopic: { 'blk/bad': 2 } } });
      const plc = status.sources.find((s) => s.name === 'plc') as Entry;
      expect(plc).toMatchObject({ flow: 'running', details: { connects: 1, disconnects: 0, writes: 0, paused: false } });
      expect((plc.details?.devices as ModbusDevice[])[0]).toMatchObject({ name: 'dev', unitId: 1, state: 'polling', timeouts: 0, pollsPaused: 0 });
      expect((plc.details?.devices as ModbusDevice[])[0]?.requests).toBeGreaterThan(0);
      expect(status.deadLetters).toMatchObject({ stored: 2, lost: {} });

      await redis.stop();
      await until('the queue blocked and both sources paused', () => {
        const s = gateway.status();
        return s.blocked && s.sources.every((e) => e.flow === 'paused');
      }, 20_000);
      await until('the MQTT source disconnected', () => source('broker').state === 'disconnected');
      expect(source('broker').details).toMatchObject({ paused: true });
      expect(source('plc').details).toMatchObject({ paused: true });
      // Polls are skipped, and counted, while no reading is taken.
      const readings = source('plc').readings;
      const polls = device().polls;
      const skipped = device().pollsPaused;
      await until('more paused ticks', () => device().pollsPaused >= skipped + PAUSED_TICKS);
      expect([source('plc').readings, device().polls]).toEqual([readings, polls]);
      // The broker keeps these for the paused session.
      await publish(BEFORE + 1, BEFORE + WHILE_PAUSED);
      expect(source('broker').readings).toBe(BEFORE);
      expect(logs.text()).toContain('Memory queue is nearly full under policy block; asking sources to pause.');

      redis = await startRedisServer(port, { persistDir: redisDir });
      await until('the queue drained and both sources running', () => {
        const s = gateway.status();
        return !s.blocked && s.sources.every((e) => e.flow === 'running' && e.state === 'connected');
      }, 30_000);
      await until('every MQTT reading in Redis', () => gateway.status().tables[MQTT_TABLE]?.recordsEnqueued === BEFORE + WHILE_PAUSED, 20_000);
      await until('Modbus polling again', () => device().polls > polls + PAUSED_TICKS);
      const after = gateway.status();
      expect(after.dropped).toEqual({});
      expect(source('broker').details).toMatchObject({ paused: false, sessionPresent: true });
      expect(logs.text()).not.toContain('Data was lost');
      const metrics = await (await fetch(`http://127.0.0.1:${gateway.httpPort}/metrics`)).text();
      expect(metrics).toContain('gateway_blocked 0');
      expect(metrics).not.toContain('records_dropped_total{');

      const queue = new Queue(queueNameFor(MQTT_TABLE), { connection: { url: redis.url }, prefix: 'block' });
      try {
        const rows = (await queue.getJobs(['waiting'], 0, -1, true)).flatMap((j) => {
          assertBatchJob(j.data);
          const job = j.data;
          return job.records.map((r) => decodeRecord(job.messageType, r));
        });
        expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: BEFORE + WHILE_PAUSED }, (_, i) => i + 1));
        expect(rows.map((r) => r.value_number)).toEqual(Array.from({ length: BEFORE + WHILE_PAUSED }, (_, i) => i + 1));
      } finally {
        await queue.close();
      }
    } finally {
      await publisher.endAsync();
      await gateway.stop();
      await redis.stop();
    }
  }, 90_000);
});
