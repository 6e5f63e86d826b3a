import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeadLetterStore } from '../../common/dlq/store.ts';
import { faultsSchema } from '../../sim/zerobus/faults.ts';
import { startTestEmulator, type TestEmulator } from '../../test/helpers/emulator.ts';
import { freePort } from '../../test/helpers/ports.ts';
import { deletePrefix, testRedisUrl, uniquePrefix } from '../../test/helpers/redis.ts';
import { until } from '../../test/helpers/wait.ts';
import { relayYaml } from '../test-support/config.ts';
import { TestQueue } from '../test-support/jobs.ts';
import { startRelayProcess, type RelayProcess } from '../test-support/relay-process.ts';

const RECORDS = 50_000;
const BATCH = 500;
const CONCURRENCY = 8;
/** Short locks so the dead relay's jobs come back within seconds (the default is 30 s). */
const WORKERS = `{ concurrency: ${CONCURRENCY}, discovery_interval_ms: 200, lock_duration_ms: 5000, stalled_interval_ms: 1000, attempts: 20, backoff_initial_ms: 100, backoff_max_ms: 1000 }`;

describe('relay crash and shutdown (child processes)', () => {
  const prefix = uniquePrefix('crash');
  const redisUrl = testRedisUrl();
  let emulator: TestEmulator;
  let dir: string;
  let redis: Redis;
  const children: RelayProcess[] = [];
  const queues: TestQueue[] = [];

  beforeAll(async () => {
    emulator = await startTestEmulator();
    dir = await mkdtemp(join(tmpdir(), 'relay-crash-'));
    redis = new Redis(redisUrl);
  });
  afterAll(async () => {
    for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    await Promise.all(queues.map((q) => q.close()));
    redis.disconnect();
    await emulator?.stop();
    await rm(dir, { recursive: true, force: true });
    await deletePrefix(prefix, redisUrl);
  });

  async function relay(id: string, table: string, sections: Record<string, string> = {}): Promise<RelayProcess> {
    const port = await freePort();
    const yaml = relayYaml({ emulator, redisUrl, prefix, id, port, sections: { workers: WORKERS.replace('{ ', `{ tables: [${table}], `), ...sections } });
    const child = await startRelayProcess(join(dir, `${id}.yaml`), yaml, port);
    children.push(child);
    return child;
  }

  it(`lands every one of ${RECORDS} records after kill -9 of a relay mid-stream; duplicates stay within the batches in flight`, { timeout: 120_000 }, async () => {
    const table = 'main.iot.crash_kill';
    const queue = new TestQueue({ url: redisUrl, prefix, table });
    queues.push(queue);
    // Slow acks keep batches in flight, so the kill lands mid-stream with rows written but not acked.
    emulator.faults.replace(faultsSchema.parse({ ack_delay_ms: 150 }));
    await queue.addBatches(RECORDS / BATCH, BATCH);

    const first = await relay('relay-a', table);
    await until('a fifth of the records to land', async () => (await emulator.count(table)) >= RECORDS / 5 || undefined, 60_000);
    const inFlight = (await first.status()).workers[0]?.active ?? 0;
    first.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    const landedAtKill = await emulator.count(table);
    expect(landedAtKill).toBeLessThan(RECORDS);
    expect((await queue.counts()).active ?? 0).toBeGreaterThan(0);

    // A second relay recovers the dead relay's jobs once their locks expire, and finishes.
    await relay('relay-b', table);
    await until('every job to complete', async () => ((await queue.counts()).completed ?? 0) === RECORDS / BATCH || undefined, 90_000);
    const counts = await queue.counts();
    expect(counts).toMatchObject({ failed: 0, active: 0, wait: 0, delayed: 0 });
    const report = await emulator.duplicates(table);
    expect(report.distinct).toBe(RECORDS);
    // Only batches in flight at the kill can land twice: at most one relay's concurrency of them.
    expect(report.duplicates).toBeLessThanOrEqual(CONCURRENCY * BATCH);
    expect(report.duplicates % BATCH).toBe(0);
    console.info(`crash: ${landedAtKill} rows had landed at the kill with ${inFlight} batches in flight; ${report.duplicates} duplicate rows (${report.duplicates / BATCH} batches)`);
    const dlq = new DeadLetterStore({ redis, prefix, limits: { maxEntries: 1, maxBytes: 1_024 } });
    expect(await dlq.count(table)).toBe(0);
  });

  it('on SIGTERM returns the batches in progress to the queue and exits 0 within the bound', { timeout: 60_000 }, async () => {
    const table = 'main.iot.crash_sigterm';
    const queue = new TestQueue({ url: redisUrl, prefix, table });
    queues.push(queue);
    emulator.faults.replace(faultsSchema.parse({ ack_delay_ms: 5_000 }));
    await queue.addBatches(4, 100);
    const child = await relay('relay-term', table, { shutdown: '{ drain_ms: 500, timeout_ms: 3000 }' });
    await until('batches in progress', async () => (await child.status()).workers[0]?.active === 4 || undefined, 20_000);
    const t0 = Date.now();
    child.kill('SIGTERM');
    const exit = await child.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(3_000 + 1_000);
    expect(child.lines.join('\n')).toContain('returning them to the queue');
    const counts = await queue.counts();
    expect(counts.active ?? 0).toBe(0);
    expect(counts.wait).toBe(4);
    emulator.faults.replace(faultsSchema.parse({}));
  });
});
