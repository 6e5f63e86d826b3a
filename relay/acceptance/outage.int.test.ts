import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeadLetterStore } from '../../common/dlq/store.ts';
import { faultsSchema } from '../../sim/zerobus/faults.ts';
import { startTestEmulator, type TestEmulator } from '../../test/helpers/emulator.ts';
import { captureLogger } from '../../test/helpers/logs.ts';
import { deletePrefix, testRedisUrl, uniquePrefix } from '../../test/helpers/redis.ts';
import { until } from '../../test/helpers/wait.ts';
import { startRelay, type RunningRelay } from '../app.ts';
import { relayConfig, relayYaml } from '../test-support/config.ts';
import { TestQueue } from '../test-support/jobs.ts';

const OUTAGE_MS = 30_000;
const BATCH = 500;
const BEFORE = 20;
const DURING = 20;
const TABLE = 'main.iot.outage';

describe('a 30 s Zerobus outage', () => {
  const prefix = uniquePrefix('outage');
  const redisUrl = testRedisUrl();
  const logs = captureLogger();
  let emulator: TestEmulator;
  let relay: RunningRelay;
  let queue: TestQueue;
  let redis: Redis;

  beforeAll(async () => {
    emulator = await startTestEmulator();
    redis = new Redis(redisUrl);
    queue = new TestQueue({ url: redisUrl, prefix, table: TABLE });
    const yaml = relayYaml({
      emulator,
      redisUrl,
      prefix,
      id: 'relay-outage',
      sections: {
        // Plenty of tries: while the circuit is open, waiting batches use none of them.
        workers: `{ tables: [${TABLE}], concurrency: 4, discovery_interval_ms: 200, attempts: 30, backoff_initial_ms: 200, backoff_max_ms: 2000 }`,
        circuit: '{ failure_threshold: 3, cooldown_ms: 3000, probe_wait_ms: 500 }',
      },
    });
    relay = await startRelay(relayConfig(yaml), { log: logs.log });
  });
  afterAll(async () => {
    await relay?.stop();
    await queue?.close();
    redis.disconnect();
    await emulator?.stop();
    await deletePrefix(prefix, redisUrl);
  });

  const table = async () => (await relay.status()).tables.find((t) => t.table === TABLE);

  it('opens the circuit, keeps every batch waiting in the queue, closes it afterwards, and lands everything', { timeout: 120_000 }, async () => {
    emulator.faults.replace(faultsSchema.parse({ ack_delay_ms: 20 }));
    await queue.addBatches(BEFORE, BATCH);
    await until('some batches to land', async () => (await emulator.count(TABLE)) >= 2 * BATCH || undefined, 20_000);

    const outageStarted = Date.now();
    await emulator.drop(OUTAGE_MS);
    // Gateways keep enqueueing during the outage.
    await queue.addBatches(DURING, BATCH, { firstSeq: BEFORE * BATCH + 1, jobPrefix: 'during' });

    await until('the circuit to open', async () => (await table())?.circuit.state === 'open' || undefined, 20_000);
    const open = await table();
    expect(open?.lastError?.code).toMatch(/UNAVAILABLE|DEADLINE_EXCEEDED|ACK_TIMEOUT/);
    await until('batches delayed while the circuit is open', async () => ((await table())?.queue?.delayed ?? 0) > 0 || undefined, 20_000);
    const during = await table();
    expect(during?.queue).toMatchObject({ failed: 0, deadLettered: 0 });
    expect(Date.now() - outageStarted).toBeLessThan(OUTAGE_MS);
    const metrics = await (await fetch(`http://127.0.0.1:${relay.httpPort}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`circuit_breaker_state\\{table="${TABLE.replace(/\./g, '\\.')}"\\} [12]`));

    await until('every batch to complete after the outage', async () => ((await queue.counts()).completed ?? 0) === BEFORE + DURING || undefined, 90_000);
    expect(Date.now() - outageStarted).toBeGreaterThanOrEqual(OUTAGE_MS);
    const after = await table();
    expect(after?.circuit).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
    expect(after?.circuit.opens).toBeGreaterThanOrEqual(1);
    expect(await queue.counts()).toMatchObject({ failed: 0, delayed: 0, active: 0 });
    const report = await emulator.duplicates(TABLE);
    expect(report.distinct).toBe((BEFORE + DURING) * BATCH);
    // Rows written but not acked when the connections dropped are sent again: the batches in flight then, no more.
    expect(report.duplicates).toBeLessThanOrEqual(4 * BATCH);
    const dlq = new DeadLetterStore({ redis, prefix, limits: { maxEntries: 1, maxBytes: 1_024 } });
    expect(await dlq.count(TABLE)).toBe(0);
    expect(logs.text()).toContain('Circuit opened; batches for the table wait in the queue.');
    expect(logs.text()).toContain('Circuit closed; batches flow again.');
  });
});
