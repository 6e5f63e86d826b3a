import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { connectAsync } from 'mqtt';
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

const TABLE = 'main.iot.drops';
const N = 2000;

/** Acceptance: a spool bound set small makes the policy act, and the drop counter equals the readings missing. */
describe('a small spool bound', () => {
  let broker: Broker;
  let dir: string;
  beforeAll(async () => {
    broker = await startBroker();
    dir = await mkdtemp(join(tmpdir(), 'gw-drops-'));
  });
  afterAll(async () => {
    await broker?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it.each(['drop_oldest', 'drop_newest'] as const)('under %s counts exactly the readings that never reach Redis', async (policy) => {
    const port = await freePort();
    const config = parseConfigText(
      `
gateway: { id: gw-drops }
redis: { url: "redis://127.0.0.1:${port}", prefix: drops }
http: { port: 0 }
batching: { max_wait_ms: 10, max_records: 50 }
spool: { dir: "${join(dir, policy)}", max_bytes: 16384, segment_bytes: 4096, policy: ${policy} }
sources:
  - name: d
    table: ${TABLE}
    mqtt: { url: "${broker.url}", subscriptions: [{ topic: "d/v", format: plain }] }
`,
      gatewayConfigSchema,
      {},
    );
    const logs = captureLogger();
    const gateway = await startGateway(config, { log: logs.log });
    let redis: Awaited<ReturnType<typeof startRedisServer>> | undefined;
    try {
      await until('subscribed', () => gateway.status().sources[0]?.state === 'connected');
      const publisher = await connectAsync(broker.url, { clientId: `drops-pub-${process.pid}` });
      for (let n = 1; n <= N; n += 50) {
        await Promise.all(Array.from({ length: 50 }, (_, i) => publisher.publishAsync('d/v', String(n + i), { qos: 1 })));
      }
      await publisher.endAsync();
      const settled = () => {
        const s = gateway.status();
        return s.sources[0]?.readings === N && s.queue.batches === 0 && s.queue.openRecords === 0 && s.spool.enabled && s.spool.records + (s.dropped.spool_full ?? 0) === N;
      };
      await until('every reading spooled or dropped', settled, 20_000);
      const dropped = gateway.status().dropped;
      expect(Object.keys(dropped)).toEqual(['spool_full']);
      expect(dropped.spool_full).toBeGreaterThan(0);
      expect(logs.lines.some((l) => l.includes('"level":"error"') && l.includes('Data was lost'))).toBe(true);

      redis = await startRedisServer(port);
      await until('the spool drained', () => {
        const s = gateway.status();
        return s.spool.enabled && s.spool.records === 0 && !s.spooling;
      }, 20_000);
      const queue = new Queue(queueNameFor(TABLE), { connection: { url: redis.url }, prefix: 'drops' });
      const seqs: number[] = [];
      try {
        for (const j of await queue.getJobs(['waiting'], 0, -1, true)) {
          assertBatchJob(j.data);
          const job = j.data;
          seqs.push(...job.records.map((r) => Number(decodeRecord(job.messageType, r).seq)));
        }
      } finally {
        await queue.close();
      }
      const missing = N - seqs.length;
      expect(missing).toBe(dropped.spool_full);
      const metrics = await (await fetch(`http://127.0.0.1:${gateway.httpPort}/metrics`)).text();
      expect(metrics).toContain(`records_dropped_total{table="${TABLE}",reason="spool_full"} ${missing}`);
      // drop_oldest keeps the newest readings, drop_newest the oldest: one unbroken run either way.
      const kept = policy === 'drop_oldest' ? N - seqs.length + 1 : 1;
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => kept + i));
    } finally {
      await gateway.stop();
      await redis?.stop();
    }
  }, 60_000);
});
