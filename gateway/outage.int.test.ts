import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { connectAsync } from 'mqtt';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBatchJob, queueNameFor } from '../common/batch.ts';
import { parseConfigText } from '../common/config/load.ts';
import { decodeRecord } from '../common/records/encode.ts';
import { captureLogger } from '../test/helpers/logs.ts';
import { startBroker, type Broker } from '../test/helpers/mosquitto.ts';
import { freePort } from '../test/helpers/ports.ts';
import { startRedisServer } from '../test/helpers/redis-server.ts';
import { until } from '../test/helpers/wait.ts';
import { startGateway } from './app.ts';
import { gatewayConfigSchema } from './config.ts';

const TABLE = 'main.iot.outage';
const PER_SOURCE = 10_000;
const SOURCES = ['s1', 's2'];
const OUTAGE_MS = 20_000;
/** Readings per source per tick; with TICK_MS, 20,000 readings flow over about 25 s. */
const PER_TICK = 20;
const TICK_MS = 50;

/**
 * Acceptance: Redis stops for 20 s while 20,000 readings flow through two real MQTT sources.
 * Redis keeps its data on disk (append-only, fsync always), so what was written before the
 * outage is still there after the restart and every reading can be counted.
 */
describe('a 20 s Redis outage under load', () => {
  let broker: Broker;
  let dir: string;
  beforeAll(async () => {
    broker = await startBroker();
    dir = await mkdtemp(join(tmpdir(), 'gw-outage-'));
  });
  afterAll(async () => {
    await broker?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('delivers all 20,000 readings, in order per source, through the spool', async () => {
    const port = await freePort();
    const redisDir = join(dir, 'redis');
    await mkdir(redisDir);
    let redis = await startRedisServer(port, { persistDir: redisDir });
    const registry = new Registry();
    const config = parseConfigText(
      `
gateway: { id: gw-outage, stop_timeout_ms: 2000 }
redis: { url: "${redis.url}", prefix: outage }
http: { port: 0 }
batching: { max_wait_ms: 20 }
spool: { dir: "${join(dir, 'spool')}", segment_bytes: 65536 }
sources:
${SOURCES.map((s) => `  - name: ${s}\n    table: ${TABLE}\n    mqtt: { url: "${broker.url}", reconnect_period_ms: 100, subscriptions: [{ topic: "${s}/v", format: plain }] }`).join('\n')}
`,
      gatewayConfigSchema,
      {},
    );
    const gateway = await startGateway(config, { log: captureLogger().log, registry });
    const publisher = await connectAsync(broker.url, { clientId: `outage-pub-${process.pid}` });
    try {
      await until('both sources subscribed', () => gateway.status().sources.every((s) => s.state === 'connected'));
      let sent = 0;
      const publishing = (async () => {
        while (sent < PER_SOURCE) {
          const tick = Date.now();
          const upTo = Math.min(PER_SOURCE, sent + PER_TICK);
          const publishes: Array<Promise<unknown>> = [];
          for (let n = sent + 1; n <= upTo; n++) for (const s of SOURCES) publishes.push(publisher.publishAsync(`${s}/v`, String(n), { qos: 1 }));
          await Promise.all(publishes);
          sent = upTo;
          await new Promise((r) => setTimeout(r, Math.max(0, TICK_MS - (Date.now() - tick))));
        }
      })();

      await until('some readings delivered before the outage', () => (gateway.status().tables[TABLE]?.recordsEnqueued ?? 0) > 500);
      await redis.stop();
      const stoppedAt = Date.now();
      await until('the gateway spooling', () => gateway.status().spooling && (gateway.status().tables[TABLE]?.recordsSpooled ?? 0) > 0);
      const status = await (await fetch(`http://127.0.0.1:${gateway.httpPort}/ready`)).json();
      expect(status).toEqual({ ready: true, redis: { connected: false }, spool: { enabled: true, accepting: true } });
      await new Promise((r) => setTimeout(r, OUTAGE_MS - (Date.now() - stoppedAt)));
      const sentDuringOutage = sent;
      redis = await startRedisServer(port, { persistDir: redisDir });
      await publishing;
      expect(sentDuringOutage).toBeLessThan(PER_SOURCE);

      await until(
        'every reading in Redis',
        () => gateway.status().tables[TABLE]?.recordsEnqueued === PER_SOURCE * SOURCES.length && gateway.status().spool.enabled && !gateway.status().spooling,
        60_000,
      );
      const s = gateway.status();
      expect(s.dropped).toEqual({});
      expect(s.tables[TABLE]?.recordsSpooled).toBeGreaterThan(1000);
      const metrics = await (await fetch(`http://127.0.0.1:${gateway.httpPort}/metrics`)).text();
      expect(metrics).toContain(`records_enqueued_total{table="${TABLE}"} ${PER_SOURCE * SOURCES.length}`);
      expect(metrics).toMatch(/records_spooled_total\{table="main.iot.outage"\} \d{4,}/);
      expect(metrics).not.toContain('records_dropped_total{');

      const queue = new Queue(queueNameFor(TABLE), { connection: { url: redis.url }, prefix: 'outage' });
      try {
        const jobs = await queue.getJobs(['waiting'], 0, -1, true);
        const rows = jobs.flatMap((j) => {
          assertBatchJob(j.data);
          const job = j.data;
          return job.records.map((r) => decodeRecord(job.messageType, r));
        });
        expect(rows).toHaveLength(PER_SOURCE * SOURCES.length);
        for (const source of SOURCES) {
          const mine = rows.filter((r) => r.source_name === source);
          // In job order: seq 1..N without gap or repeat, and the values as published.
          expect(mine.map((r) => r.seq)).toEqual(Array.from({ length: PER_SOURCE }, (_, i) => i + 1));
          expect(mine.map((r) => r.value_number)).toEqual(Array.from({ length: PER_SOURCE }, (_, i) => i + 1));
        }
      } finally {
        await queue.close();
      }
    } finally {
      await publisher.endAsync();
      await gateway.stop();
      await redis.stop();
    }
  }, 120_000);
});
